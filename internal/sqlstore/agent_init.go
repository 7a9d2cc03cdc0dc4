package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// Dialect-specific parts of the agent schema, created idempotently by
// InitAgents (the migrations are plain statements shared by both
// databases):
//
//   - indexes for the case-insensitive comparisons agentql writes
//     (COLLATE NOCASE on SQLite, lower(... COLLATE "C") on PostgreSQL), so a
//     selective q such as name=web-01 is an index lookup;
//   - triggers keeping agent_counts, the number of agents (000 excluded)
//     per connection_status and group_config_status, so the status summary
//     of a fleet of 100,000 agents reads a few rows instead of an index.
var (
	sqliteAgentDDL = []string{
		`CREATE INDEX IF NOT EXISTS agent_name_ci ON agent (name COLLATE NOCASE)`,
		`CREATE INDEX IF NOT EXISTS agent_ip_ci ON agent (coalesce(ip, register_ip) COLLATE NOCASE)`,
		`CREATE INDEX IF NOT EXISTS agent_platform_ci ON agent (os_platform COLLATE NOCASE)`,
		`CREATE INDEX IF NOT EXISTS agent_version_ci ON agent (version COLLATE NOCASE)`,
		`CREATE TRIGGER IF NOT EXISTS agent_counts_insert AFTER INSERT ON agent WHEN NEW.id > 0 BEGIN
			INSERT INTO agent_counts (connection_status, group_config_status, n)
			VALUES (NEW.connection_status, NEW.group_config_status, 1)
			ON CONFLICT (connection_status, group_config_status) DO UPDATE SET n = n + 1;
		END`,
		`CREATE TRIGGER IF NOT EXISTS agent_counts_delete AFTER DELETE ON agent WHEN OLD.id > 0 BEGIN
			UPDATE agent_counts SET n = n - 1
			WHERE connection_status = OLD.connection_status AND group_config_status = OLD.group_config_status;
		END`,
		`CREATE TRIGGER IF NOT EXISTS agent_counts_update AFTER UPDATE OF connection_status, group_config_status ON agent
		WHEN OLD.id > 0 AND (OLD.connection_status != NEW.connection_status
			OR OLD.group_config_status != NEW.group_config_status) BEGIN
			UPDATE agent_counts SET n = n - 1
			WHERE connection_status = OLD.connection_status AND group_config_status = OLD.group_config_status;
			INSERT INTO agent_counts (connection_status, group_config_status, n)
			VALUES (NEW.connection_status, NEW.group_config_status, 1)
			ON CONFLICT (connection_status, group_config_status) DO UPDATE SET n = n + 1;
		END`,
	}
	postgresAgentDDL = []string{
		`CREATE INDEX IF NOT EXISTS agent_name_ci ON agent ((lower(CAST(name AS TEXT) COLLATE "C")))`,
		`CREATE INDEX IF NOT EXISTS agent_ip_ci ON agent ((lower(CAST(coalesce(ip, register_ip) AS TEXT) COLLATE "C")))`,
		`CREATE INDEX IF NOT EXISTS agent_platform_ci ON agent ((lower(CAST(os_platform AS TEXT) COLLATE "C")))`,
		`CREATE INDEX IF NOT EXISTS agent_version_ci ON agent ((lower(CAST(version AS TEXT) COLLATE "C")))`,
		`CREATE OR REPLACE FUNCTION agent_counts_fn() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.id > 0 THEN
				UPDATE agent_counts SET n = n - 1
				WHERE connection_status = OLD.connection_status AND group_config_status = OLD.group_config_status;
			END IF;
			IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.id > 0 THEN
				INSERT INTO agent_counts (connection_status, group_config_status, n)
				VALUES (NEW.connection_status, NEW.group_config_status, 1)
				ON CONFLICT (connection_status, group_config_status) DO UPDATE SET n = agent_counts.n + 1;
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE OR REPLACE TRIGGER agent_counts_trg AFTER INSERT OR DELETE ON agent
		FOR EACH ROW EXECUTE FUNCTION agent_counts_fn()`,
		// Keepalives rewrite the status of active agents all the time: only
		// a real change touches the counters (and their row locks).
		`CREATE OR REPLACE TRIGGER agent_counts_upd AFTER UPDATE OF connection_status, group_config_status ON agent
		FOR EACH ROW WHEN (OLD.connection_status IS DISTINCT FROM NEW.connection_status
			OR OLD.group_config_status IS DISTINCT FROM NEW.group_config_status)
		EXECUTE FUNCTION agent_counts_fn()`,
	}
)

// InitAgents implements core.AgentStore: it creates the dialect's indexes
// and triggers, then recounts agent_counts from the agent table in case it
// was written without them.
func (s *Store) InitAgents(ctx context.Context) error {
	if !s.d.postgres {
		for _, st := range sqliteAgentDDL {
			if _, err := s.db.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("agent schema: %w", err)
			}
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.postgres {
			// Nodes starting together would race on IF NOT EXISTS and OR
			// REPLACE (both check the catalogue before writing it): one at
			// a time, the same lock as the migrations.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7305896421)`); err != nil {
				return err
			}
			for _, st := range postgresAgentDDL {
				if _, err := tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("agent schema: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_counts`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO agent_counts (connection_status, group_config_status, n)
			SELECT connection_status, group_config_status, COUNT(*) FROM agent WHERE id > 0
			GROUP BY connection_status, group_config_status`)
		return err
	})
}

// statusCounts reads agent_counts: the rows of a status summary over every
// agent but 000.
func (s *Store) statusCounts(ctx context.Context) ([]countRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT connection_status, group_config_status, n FROM agent_counts WHERE n > 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []countRow
	for rows.Next() {
		var r countRow
		if err := rows.Scan(&r.status, &r.config, &r.n); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

type countRow struct {
	status, config string
	n              int
}
