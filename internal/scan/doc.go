// Package scan reports the health of a Wazuh (or muster) manager's agents.
//
// Run reads the manager's own settings where the API exposes them (falling
// back to Wazuh's documented defaults and saying so), walks every agent page
// by page through the client SDK, and classifies each agent: every agent has
// exactly one connection Class (active, stale, pending, disconnected,
// never_connected, unknown) and any number of Findings (stale, pending,
// disconnected, never_connected, outdated, config_not_synced, duplicate_name,
// duplicate_ip, unknown_status). Thresholds turn the finding counts into an
// exit code a monitor can use.
//
// Only a compact row per agent is kept (identity, class, findings, age), never
// the full agent record, so memory grows with one page of agents plus the
// report. The renderers write the report as a table, JSON, CSV or the
// Prometheus text format; Exporter serves the same figures over HTTP.
//
// The classification rules are documented in docs/scanner.md and next to the
// code that applies them (classify.go).
package scan
