// Must not compile: the datapath sits below OpenFlow (tests/CMakeLists.txt, "layering").
#include "ofproto/ofproto.h"
