// Package history records every `muster coverage` run and answers what
// drifted between runs: the gaps opened and closed, how long each open gap
// has been open, and coverage over time. It is what `muster coverage
// history` reads.
//
// # Storage
//
// Open takes a file path (embedded SQLite: the file is created with mode
// 0600 in a folder that must exist, WAL journal, busy timeout) or a
// postgres:// / postgresql:// DSN (PostgreSQL through pgx). The schema is
// created or migrated on open; its version is kept in coverage_schema. Every
// table is prefixed coverage_ so that the history may share a database with
// the manager's store. Writers are serialised (SQLite's immediate
// transactions, a PostgreSQL advisory lock), so run ids follow the order in
// which runs were recorded, and "latest" means the highest id.
//
// # Gaps
//
// A gap is the life of one finding key (coverage.Finding.Key) across runs:
// when it was first seen, last seen, and closed. Record applies each run in
// one transaction with these rules:
//
//   - A finding opens its gap (first seen = last seen = this run), or
//     refreshes an open one (last seen = this run; kind, device, name,
//     sources and message take this run's values).
//   - An open gap whose key is absent from this run is closed by this run
//     only when every source its finding names was "ok" in this run. If one
//     of them was unavailable, or is no longer configured, the run says
//     nothing about the gap: it stays open and its last seen is left as it
//     was. A failed source must never close a gap.
//   - Likewise a finding that names a source this run lists as unavailable
//     neither opens, refreshes nor reopens its gap: a failed source must
//     never open one either (the finding itself is still stored with the run).
//   - A closed gap whose key is seen again is reopened as a new open period
//     starting at this run (a new first seen); the period that closed is
//     kept in coverage_gap_periods, so drift against an earlier run still
//     knows the gap was open then.
//
// Drift compares the latest run with an earlier one S (by default the run
// before it): Opened holds the gaps open now that were not open at S, Closed
// the gaps open at S and closed now, Open every gap open now with its age
// (latest run's start minus first seen). Prune bounds growth by keeping the
// newest runs only.
//
// # JSON
//
// WriteJSON writes one object (schema_version 1):
//
//	{
//	  "schema_version": 1,
//	  "runs": [{                      // as given to WriteJSON, usually newest first
//	    "id": 12, "started_at": RFC 3339, "duration_seconds": 3.2,
//	    "window_seconds": 86400, "exit_code": 1, "devices": 120,
//	    "findings": {"missing_agent": 3, ...},   // every finding kind, 0 when none
//	    "requirements": [coverage.RequirementResult...],
//	    "sources": [coverage.SourceStatus...],   // by name
//	    "breaches": [coverage.Breach...]
//	  }],
//	  "drift": {
//	    "latest_run": 12, "latest_at": RFC 3339,
//	    "since_run": 11,                // 0 when the latest run is the first
//	    "since_at": RFC 3339,           // absent when since_run is 0
//	    "coverage": [{"index": 0, "scope": [...], "must_have": [...],
//	                  "before": 0.95, "after": 0.97}],  // -1: skipped or absent
//	    "opened": [gap...], "closed": [gap...], "open": [gap...]
//	  }
//	}
//
// where a gap is
//
//	{"key": "...", "kind": "missing_agent", "device": "...", "name": "...",
//	 "sources": ["inventory", "wazuh"], "message": "...",
//	 "first_run": 9, "first_seen": RFC 3339, "last_run": 12, "last_seen": RFC 3339,
//	 "closed_run": 12, "closed_at": RFC 3339,   // only once closed
//	 "age_seconds": 7200}                       // open: to the latest run; closed: to closing
//
// Lists are never null. Times are UTC.
package history
