// Package agentsim simulates Wazuh agents: each enrolls over the 1515
// enrollment protocol (or reuses a key from a client.keys file), connects to
// the 1514 secure channel, sends its startup, the "Agent started" event and
// a keepalive every notify_time, applies the merged.mg the manager pushes,
// obeys force_reconnect and restart, and sends its shutdown when stopped.
//
// It serves the end-to-end tests (one Agent at a time, with callbacks) and
// `muster agent-sim`, the load generator of the benchmarks (Run: thousands
// of agents, a progress line with the connected count and the
// keepalive-to-ACK latency percentiles). The byte layouts are agentproto's.
//
// A fleet file (fleet.go, `--fleet`) gives each agent its own name, key,
// version (a 3.13 agent sends what 3.13 sends, wire.go), OS, groups,
// labels, source address, keepalive period, <server> list (failover.go) and
// behaviour (behaviour.go: active, silent after D, never connects, flapping).
package agentsim
