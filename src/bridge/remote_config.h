// What the Controller, Manager and SSL rows ask of switchd's connections, read as Open vSwitch
// reads them, and the status the bridge layer writes back to them. Pure functions of IDL rows,
// so that the reconciler only has to call them.
//
// Controller: target, type (primary/service; by default active targets are primary, passive
// ones service), max_backoff (at least 1000 ms, default 8000), inactivity_probe (0: none;
// default 5000; below 1000 means 1000, as Open vSwitch counts in seconds),
// controller_rate_limit (at least 100 packets/s) and controller_burst_limit (at least 25;
// default a quarter of the rate), controller_queue_size (1..512; default the Bridge's
// other_config:controller-queue-size, else 100), enable_async_messages (default true),
// other_config:dscp (0..63, default 48).
// Manager: target, max_backoff, inactivity_probe.
// SSL: private_key, certificate, ca_cert, bootstrap_ca_cert; Open_vSwitch other_config
// ssl-protocols, ssl-ciphers and ssl-ciphersuites (Sluice's; Open vSwitch takes these on its
// command line only). Without an SSL row, switchd's command-line options apply.
#pragma once

#include <map>
#include <string>

#include "common/stream/tls_config.h"
#include "ofproto/connmgr/connmgr.h"
#include "ovsdb/idl/idl.h"
#include "ovsdb/server/remotes.h"
#include "sluice/result.h"

namespace sluice::bridge {

ofp::ControllerOptions ControllerOptionsFromRow(const db::IdlRow& row, int queue_default);
db::RemoteOptions ManagerOptionsFromRow(const db::IdlRow& row);
// The Bridge's other_config:controller-queue-size (1..512), else 100.
int ControllerQueueDefault(const std::map<std::string, std::string>& bridge_other_config);

TlsOptions TlsOptionsFromDb(const db::IdlRow* ssl,
                            const std::map<std::string, std::string>& ovs_other_config,
                            const TlsOptions& defaults);

// Unix sockets named by database users stay inside switchd's run directory (a controller's or
// manager's target must not make switchd remove or create a socket anywhere else): a punix:
// controller as RUNDIR/BRIDGE.*, a unix: controller and punix:/unix: managers under RUNDIR/,
// as Open vSwitch confines them. The error says why and what is allowed.
Result<void> CheckControllerTarget(const std::string& target, const std::string& rundir,
                                   const std::string& bridge);
Result<void> CheckManagerTarget(const std::string& target, const std::string& rundir);

// Controller.role for a connected controller.
std::string RoleName(ofp::ControllerRole role);
// Manager.status as ovsdb-server writes it for its remotes: state, sec_since_connect,
// sec_since_disconnect, last_error, n_connections (when more than one), bound_port.
std::map<std::string, std::string> ManagerStatus(const db::RemoteStatus& rs);

}  // namespace sluice::bridge
