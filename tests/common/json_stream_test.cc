// JsonStreamSplitter: framing of back-to-back texts, and the JSON grammar checked as bytes
// arrive, against nlohmann::json's verdict (a text the validator passes must parse, one it
// refuses must not), on hand-picked cases and on random mutations of valid texts.
#include "common/json_stream.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sluice {
namespace {

// Feeds `text` one byte at a time; returns the texts that came out and the error, if any.
std::pair<std::vector<std::string>, std::string> Split(const std::string& text) {
  JsonStreamSplitter s;
  std::vector<std::string> out;
  for (char c : text) {
    s.Feed(std::string_view(&c, 1));
    while (auto m = s.Next()) out.push_back(*m);
    if (!s.error().empty()) break;
  }
  return {out, s.error()};
}

TEST(JsonStreamTest, FramesTextsBackToBack) {
  auto [texts, err] = Split(R"( {"a":[1,2,{"b":"}]"}]} [true,false,null]{"x":"\"{"} )");
  EXPECT_EQ(err, "");
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(texts[0], R"({"a":[1,2,{"b":"}]"}]})");
  EXPECT_EQ(texts[1], "[true,false,null]");
  EXPECT_EQ(texts[2], R"({"x":"\"{"})");
}

TEST(JsonStreamTest, ValidTextsPass) {
  for (const char* ok :
       {R"({})", R"([])", R"({"":""})", R"([0,-0,1.5,-2e10,3E+2,4e-7,0.0])",
        R"(["\u00e9\u4e2d\ud83d\ude00\n\t\\\/\b\f\r"])",
        "[\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"]", R"({"a":{"b":{"c":[[[]]]}}})",
        " \n\t\r[ 1 , 2 ]\n", R"([123456789012345678901234567890])"}) {
    auto [texts, err] = Split(ok);
    EXPECT_EQ(err, "") << ok;
    ASSERT_EQ(texts.size(), 1u) << ok;
    EXPECT_TRUE(nlohmann::json::accept(texts[0])) << ok;
  }
}

TEST(JsonStreamTest, MalformedInputIsCaughtAtTheOffendingByte) {
  struct Case {
    std::string input;
    std::string error;
  };
  const Case kCases[] = {
      {R"({"method": echo)", "byte 11: unexpected 'e' (expected a value)"},
      {R"({"a":1,})", "byte 7: unexpected '}' (expected a member name in quotes)"},
      {R"([1,])", "byte 3: unexpected ']' (expected a value)"},
      {R"({"a" 1})", "byte 5: unexpected '1' (expected ':' after a member name)"},
      {R"([01])", "byte 2: unexpected '1' (expected ',' or ']')"},
      {R"([1.])", "byte 3: unexpected ']' (expected a digit after '.')"},
      {R"([-])", "byte 2: unexpected ']' (expected a digit after '-')"},
      {R"([1e])", "byte 3: unexpected ']' (expected a digit in the exponent)"},
      {R"([tru])", "byte 4: unexpected ']' (expected true, false or null)"},
      {R"(["\x"])", "byte 3: unexpected 'x' (not a valid escape in a string)"},
      {R"(["\u12g4"])", "byte 6: unexpected 'g' (expected a hexadecimal digit of a \\u escape)"},
      {R"(["\ud800x"])",
       "byte 8: unexpected 'x' (a high surrogate must be followed by a low surrogate)"},
      {R"(["\udc00"])",
       "byte 7: unexpected '0' (a low surrogate without a high surrogate before it)"},
      {"[\"a\tb\"]",
       "byte 3: unexpected byte 0x09 (control characters must be escaped in strings)"},
      {"[\"\xc0\xaf\"]", "byte 2: unexpected byte 0xc0 (invalid UTF-8 in a string)"},
      {"[\"\xe0\x80\x80\"]", "byte 3: unexpected byte 0x80 (invalid UTF-8 in a string)"},
      {"[\"\xed\xa0\x80\"]", "byte 3: unexpected byte 0xa0 (invalid UTF-8 in a string)"},
      {"x", "byte 0: unexpected 'x' (a JSON-RPC message must be an object)"},
      {"{} ]", "byte 3: unexpected ']' (a JSON-RPC message must be an object)"},
  };
  for (const Case& c : kCases) {
    auto [texts, err] = Split(c.input);
    EXPECT_EQ(err, c.error) << c.input;
  }
  // Nesting is bounded.
  auto [texts, err] = Split(std::string(2000, '['));
  EXPECT_NE(err.find("nesting deeper than 1024"), std::string::npos) << err;
}

// Random mutations of valid texts: whatever the splitter lets through parses, and whatever it
// refuses nlohmann refuses too.
TEST(JsonStreamTest, AgreesWithTheParserOnMutatedTexts) {
  const std::vector<std::string> seeds = {
      R"({"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"name":"br0","other_config":["map",[["k","v"]]]}}],"id":1})",
      R"({"id":null,"method":"update2","params":["m",{"T":{"u":{"modify":{"n":[1.5,-2e3,0]}}}]})",
      "[\"\\u00e9\\ud83d\\ude00\",\"\xc3\xa9\",true,false,null,{\"\":[]}]",
  };
  std::mt19937 rng(12345);
  const std::string alphabet =
      "{}[]\",:\\/0123456789-+.eEtrufalsn \t\n\x01\x7f\xc3\xa9\xed\xa0\xf0";
  int passed = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = seeds[rng() % seeds.size()];
    int edits = 1 + rng() % 3;
    for (int e = 0; e < edits && !t.empty(); ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0:
          t[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.insert(t.begin() + static_cast<std::ptrdiff_t>(pos), alphabet[rng() % alphabet.size()]);
          break;
        default:
          t.erase(pos, 1);
      }
    }
    JsonStreamSplitter s;
    s.Feed(t);
    std::vector<std::string> texts;
    while (auto m = s.Next()) texts.push_back(*m);
    for (const auto& text : texts) {
      ASSERT_TRUE(nlohmann::json::accept(text)) << "validator passed what does not parse: " << text;
      ++passed;
    }
    if (!s.error().empty()) {
      ++refused;
      // The whole input is not a sequence of valid texts either.
      EXPECT_FALSE(texts.size() == 1 && texts[0] == t && nlohmann::json::accept(t)) << t;
    } else if (texts.size() == 1 && texts[0].size() == t.size()) {
      EXPECT_TRUE(nlohmann::json::accept(t)) << t;
    }
    // A text nlohmann accepts (one object or array) is never refused.
    if (nlohmann::json::accept(t)) {
      auto j = nlohmann::json::parse(t);
      if (j.is_object() || j.is_array()) {
        EXPECT_EQ(s.error(), "") << "validator refused valid JSON: " << t;
      }
    }
  }
  EXPECT_GT(passed, 100);
  EXPECT_GT(refused, 1000);
}

}  // namespace
}  // namespace sluice
