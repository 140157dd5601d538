// A read-only JSON document for the server's request path: one parse fills a node array and a
// string arena (a handful of allocations per message instead of several per value, which is
// what dominated bulk inserts with nlohmann::json). JsonNode offers the subset of
// nlohmann::json's const interface that the transaction code uses, so that code is written
// once as templates over both (see txn_ops.cc, datum.cc, condition.cc, mutation.cc).
//
// Accepts exactly RFC 8259 JSON, as nlohmann::json::parse does: UTF-8 validated, \u escapes with
// surrogate pairs, no trailing garbage. Numbers are classified as nlohmann does (non-negative
// integers unsigned, negative ones signed, out-of-range integers as reals).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::db {

class JsonDoc;

class JsonNode {
 public:
  enum class Type : uint8_t { kNull, kBool, kInt, kUint, kReal, kString, kArray, kObject };

  bool is_null() const { return type_ == Type::kNull; }
  bool is_boolean() const { return type_ == Type::kBool; }
  bool is_number() const {
    return type_ == Type::kInt || type_ == Type::kUint || type_ == Type::kReal;
  }
  bool is_number_integer() const { return type_ == Type::kInt || type_ == Type::kUint; }
  bool is_number_unsigned() const { return type_ == Type::kUint; }
  bool is_number_float() const { return type_ == Type::kReal; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // nlohmann's size(): elements or members; 0 for null, 1 for other scalars.
  size_t size() const;
  bool empty() const { return size() == 0; }
  // Array element.
  const JsonNode& operator[](size_t i) const;

  class const_iterator;  // over array elements, or (find) over object members
  const_iterator begin() const;
  const_iterator end() const;
  // Object member by key (end() if absent).
  const_iterator find(std::string_view key) const;
  bool contains(std::string_view key) const;

  struct Member {
    std::string_view first;
    const JsonNode& second;
  };
  class Members;
  // Object members in document order: `for (const auto& [key, value] : node.items())`.
  Members items() const;

  std::string_view str() const { return {text_, len_}; }
  // Conversions as nlohmann's get<T>() for the types the server reads.
  template <class T>
  T get() const;

  bool operator==(std::string_view s) const { return is_string() && str() == s; }
  bool operator==(const char* s) const { return *this == std::string_view(s); }

  nlohmann::json ToJson() const;
  std::string dump() const { return ToJson().dump(); }

 private:
  friend class JsonDoc;
  friend class JsonParser;

  const JsonDoc* doc_ = nullptr;
  Type type_ = Type::kNull;
  uint32_t len_ = 0;  // string length; element or member count
  union {
    const char* text_;  // string bytes (in the document's arena)
    uint32_t first_;    // containers: first child slot in JsonDoc::kids_
  };
  union {
    int64_t int_;
    uint64_t uint_;
    double real_;
    bool bool_;
  };
};

class JsonNode::const_iterator {
 public:
  using value_type = JsonNode;
  using difference_type = ptrdiff_t;
  const_iterator() = default;
  const_iterator(const JsonDoc* doc, const uint32_t* slot, uint32_t step)
      : doc_(doc), slot_(slot), step_(step) {}
  // Array: the element. Object (from find()): the member's value.
  const JsonNode& operator*() const;
  const JsonNode* operator->() const { return &**this; }
  const_iterator& operator++() {
    slot_ += step_;
    return *this;
  }
  bool operator==(const const_iterator& o) const { return slot_ == o.slot_; }

 private:
  friend class JsonNode;
  const JsonDoc* doc_ = nullptr;
  const uint32_t* slot_ = nullptr;
  uint32_t step_ = 1;  // 2 for object members (key, value)
};

class JsonNode::Members {
 public:
  class iterator {
   public:
    iterator(const JsonDoc* doc, const uint32_t* slot) : doc_(doc), slot_(slot) {}
    Member operator*() const;
    iterator& operator++() {
      slot_ += 2;
      return *this;
    }
    bool operator==(const iterator& o) const { return slot_ == o.slot_; }

   private:
    const JsonDoc* doc_;
    const uint32_t* slot_;
  };
  Members(const JsonDoc* doc, const uint32_t* b, const uint32_t* e) : doc_(doc), b_(b), e_(e) {}
  iterator begin() const { return {doc_, b_}; }
  iterator end() const { return {doc_, e_}; }

 private:
  const JsonDoc* doc_;
  const uint32_t* b_;
  const uint32_t* e_;
};

class JsonDoc {
 public:
  JsonDoc() = default;
  JsonDoc(const JsonDoc&) = delete;
  JsonDoc& operator=(const JsonDoc&) = delete;

  // Parses `text`; false (and an unusable document) if it is not exactly one JSON value.
  bool Parse(std::string_view text);
  const JsonNode& root() const { return nodes_[0]; }

 private:
  friend class JsonNode;
  friend class JsonParser;

  std::vector<JsonNode> nodes_;
  std::vector<uint32_t> kids_;  // per container, its children's node indexes (objects: key, value)
  std::string strings_;         // unescaped string bytes; reserved so it never moves
};

inline const JsonNode& JsonNode::operator[](size_t i) const {
  return doc_->nodes_[doc_->kids_[first_ + i]];
}
inline const JsonNode& JsonNode::const_iterator::operator*() const {
  return doc_->nodes_[slot_[step_ - 1]];
}
inline JsonNode::Member JsonNode::Members::iterator::operator*() const {
  return {doc_->nodes_[slot_[0]].str(), doc_->nodes_[slot_[1]]};
}

template <>
std::string JsonNode::get<std::string>() const;
template <>
int64_t JsonNode::get<int64_t>() const;
template <>
uint64_t JsonNode::get<uint64_t>() const;
template <>
double JsonNode::get<double>() const;
template <>
bool JsonNode::get<bool>() const;

// Scalar accessors for code written for both nlohmann::json and JsonNode (templates would need
// `j.template get<T>()` otherwise).
inline std::string_view StrOf(const nlohmann::json& j) { return j.get_ref<const std::string&>(); }
inline std::string_view StrOf(const JsonNode& j) { return j.str(); }
inline int64_t IntOf(const nlohmann::json& j) { return j.get<int64_t>(); }
inline int64_t IntOf(const JsonNode& j) { return j.get<int64_t>(); }
inline uint64_t UintOf(const nlohmann::json& j) { return j.get<uint64_t>(); }
inline uint64_t UintOf(const JsonNode& j) { return j.get<uint64_t>(); }
inline double RealOf(const nlohmann::json& j) { return j.get<double>(); }
inline double RealOf(const JsonNode& j) { return j.get<double>(); }
inline bool BoolOf(const nlohmann::json& j) { return j.get<bool>(); }
inline bool BoolOf(const JsonNode& j) { return j.get<bool>(); }

}  // namespace sluice::db
