// Must not compile: common code sits below every layer.
#include "ovsdb/database.h"
