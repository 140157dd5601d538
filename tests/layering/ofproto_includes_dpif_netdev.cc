// Must not compile: ofproto sees the datapath only through datapath/dpif.h.
#include "datapath/dpif_netdev/dpif_netdev.h"
