// Must not compile: the bridge layer sits above ofproto.
#include "bridge/bridge.h"
