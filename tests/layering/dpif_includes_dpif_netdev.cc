// Must not compile: the datapath interface library knows no implementation of it.
#include "datapath/dpif_netdev/pmd.h"
