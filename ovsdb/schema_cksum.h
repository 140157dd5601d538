// Schema checksums as Open vSwitch computes them: the POSIX `cksum` (CRC-32, length appended)
// of the schema file's text with its "cksum" line left out, written "CRC LENGTH". The server
// serves a schema with its cksum member; `sluice-ovsdb-tool schema-cksum` prints it and a test
// keeps Sluice's vswitch schema's correct.
#pragma once

#include <string>
#include <string_view>

namespace sluice::db {

// POSIX cksum of `data`: "CRC LENGTH".
std::string PosixCksum(std::string_view data);

// The cksum `schema_text` should carry: PosixCksum of the text without the line holding its
// `"cksum": "N N",` member.
std::string SchemaCksum(std::string_view schema_text);

}  // namespace sluice::db
