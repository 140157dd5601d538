// Sluice's vswitch schema (ovsdb/schemas/vswitch.ovsschema), compiled in so that switchd can
// create its embedded database without any file installed.
#pragma once

namespace sluice::db {
extern const char* const kVswitchSchema;
}  // namespace sluice::db
