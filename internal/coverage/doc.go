// Package coverage reconciles device inventories across security tools: it
// reads every configured source (a Wazuh manager, an RMM, an inventory
// export, ...), decides which records are one machine, and reports coverage
// gaps and silent failures, each finding backed by the source records that
// prove it. Runs are recorded so that drift (gaps opened and closed) can be
// shown over time.
//
// The engine knows no vendor: connectors live in source/<kind> and register a
// Factory for their kind, as Prometheus' service discovery providers do.
package coverage
