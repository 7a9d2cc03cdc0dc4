package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order, each once, in its own transaction.
// {{id}} is an auto-allocated link id; {{bytes}} is a binary column and
// {{random}} a random hex text.
var migrations = []string{
	// 1: the security layer, shaped like Wazuh's rbac.db.
	`CREATE TABLE users (
		id INTEGER PRIMARY KEY,
		username TEXT NOT NULL UNIQUE,
		password TEXT NOT NULL,
		allow_run_as INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL DEFAULT '');
	CREATE TABLE roles (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		created_at TEXT NOT NULL DEFAULT '');
	CREATE TABLE policies (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		policy TEXT NOT NULL UNIQUE,
		created_at TEXT NOT NULL DEFAULT '');
	CREATE TABLE rules (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		rule TEXT NOT NULL UNIQUE,
		created_at TEXT NOT NULL DEFAULT '');
	CREATE TABLE user_roles (
		id {{id}},
		user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		level INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL DEFAULT '',
		UNIQUE (user_id, role_id));
	CREATE TABLE roles_policies (
		id {{id}},
		role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		policy_id INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
		level INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL DEFAULT '',
		UNIQUE (role_id, policy_id));
	CREATE TABLE roles_rules (
		id {{id}},
		role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		rule_id INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
		level INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL DEFAULT '',
		UNIQUE (role_id, rule_id));
	CREATE TABLE users_token_blacklist (
		user_id INTEGER PRIMARY KEY,
		nbf_invalid_until BIGINT NOT NULL,
		is_valid_until BIGINT NOT NULL);
	CREATE TABLE roles_token_blacklist (
		role_id INTEGER PRIMARY KEY,
		nbf_invalid_until BIGINT NOT NULL,
		is_valid_until BIGINT NOT NULL);
	CREATE TABLE runas_token_blacklist (
		nbf_invalid_until BIGINT PRIMARY KEY,
		is_valid_until BIGINT NOT NULL);
	CREATE TABLE settings (
		key TEXT PRIMARY KEY,
		value TEXT NOT NULL);
	INSERT INTO settings (key, value) VALUES ('security_version', '0');`,
	// 2: the agent registry, shaped like Wazuh's global.db (agents.md §1.1).
	// version_key orders versions numerically; agent_counts (kept by
	// triggers, see sqlstore/agent.go) counts agents but 000 per status for
	// the summaries; agent_registry holds the id counter and a version
	// bumped whenever client.keys must change.
	`CREATE TABLE agent (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		ip TEXT,
		register_ip TEXT,
		internal_key TEXT,
		os_name TEXT,
		os_version TEXT,
		os_major TEXT,
		os_minor TEXT,
		os_codename TEXT,
		os_build TEXT,
		os_platform TEXT,
		os_uname TEXT,
		os_arch TEXT,
		version TEXT,
		version_key TEXT,
		config_sum TEXT,
		merged_sum TEXT,
		manager_host TEXT,
		node_name TEXT NOT NULL DEFAULT 'unknown',
		date_add BIGINT NOT NULL,
		last_keepalive BIGINT,
		"group" TEXT,
		group_hash TEXT,
		connection_status TEXT NOT NULL DEFAULT 'never_connected'
			CHECK (connection_status IN ('pending', 'never_connected', 'active', 'disconnected')),
		disconnection_time BIGINT NOT NULL DEFAULT 0,
		group_config_status TEXT NOT NULL DEFAULT 'not synced'
			CHECK (group_config_status IN ('synced', 'not synced')),
		status_code INTEGER NOT NULL DEFAULT 0);
	CREATE UNIQUE INDEX agent_name ON agent (name);
	CREATE INDEX agent_register_ip ON agent (register_ip);
	CREATE INDEX agent_status ON agent (connection_status, group_config_status);
	CREATE INDEX agent_keepalive ON agent (last_keepalive);
	CREATE INDEX agent_date_add ON agent (date_add);
	CREATE INDEX agent_version_key ON agent (version_key);
	CREATE TABLE agent_groups (
		id {{id}},
		name TEXT NOT NULL UNIQUE);
	CREATE TABLE belongs (
		id_agent INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
		id_group BIGINT NOT NULL REFERENCES agent_groups(id) ON DELETE CASCADE,
		priority INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (id_agent, id_group));
	CREATE INDEX belongs_group ON belongs (id_group, id_agent);
	CREATE TABLE agent_counts (
		connection_status TEXT NOT NULL,
		group_config_status TEXT NOT NULL,
		n BIGINT NOT NULL,
		PRIMARY KEY (connection_status, group_config_status));
	CREATE TABLE agent_registry (
		id INTEGER PRIMARY KEY,
		last_id BIGINT NOT NULL,
		version BIGINT NOT NULL);
	INSERT INTO agent_registry (id, last_id, version) VALUES (1, 0, 0);`,
	// 3: exact token revocation. seq is the security version whose write
	// made a blacklist row; issued_tokens holds, for the few tokens issued
	// in a second a blacklist row also covers, the security version they
	// were issued from (core.SecurityData.IssuedTokens).
	`ALTER TABLE users_token_blacklist ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE roles_token_blacklist ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE runas_token_blacklist ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
	CREATE TABLE issued_tokens (
		digest TEXT PRIMARY KEY,
		seq BIGINT NOT NULL,
		is_valid_until BIGINT NOT NULL);`,
	// 4: groups and their files, shared by every node on the store
	// (core.GroupFileStore). group_name '' is the shared root (ar.conf);
	// file_name '' is the row that makes a group exist. group_state holds
	// the version every group write bumps, and the store's epoch, by which
	// a node tells this store from one it synced with before.
	`CREATE TABLE group_files (
		group_name TEXT NOT NULL,
		file_name TEXT NOT NULL,
		content {{bytes}} NOT NULL,
		checksum TEXT NOT NULL,
		mtime BIGINT NOT NULL,
		PRIMARY KEY (group_name, file_name));
	CREATE TABLE group_state (
		id INTEGER PRIMARY KEY,
		version BIGINT NOT NULL,
		epoch TEXT NOT NULL);
	INSERT INTO group_state (id, version, epoch) VALUES (1, 0, {{random}});`,
	// 5: the cluster's node registry and master lease (internal/cluster,
	// sqlstore/cluster.go). Times are Unix milliseconds; cluster_state's
	// secret, the key that signs node-to-node calls, is written by the
	// first node that needs it.
	`CREATE TABLE cluster_nodes (
		name TEXT PRIMARY KEY,
		instance TEXT NOT NULL,
		address TEXT NOT NULL,
		cert_sha256 TEXT NOT NULL,
		version TEXT NOT NULL,
		started BIGINT NOT NULL,
		heartbeat BIGINT NOT NULL);
	CREATE TABLE cluster_state (
		id INTEGER PRIMARY KEY,
		master TEXT NOT NULL,
		instance TEXT NOT NULL,
		lease_until BIGINT NOT NULL,
		secret TEXT NOT NULL);
	INSERT INTO cluster_state (id, master, instance, lease_until, secret) VALUES (1, '', '', 0, '');`,
	// 6: failed logins per client address, shared by every node so that
	// api.access.max_login_attempts holds for the fleet (login_block.go).
	// first_failure is Unix nanoseconds; the index serves the purge of
	// ended windows.
	`CREATE TABLE login_failures (
		client TEXT PRIMARY KEY,
		first_failure BIGINT NOT NULL,
		attempts BIGINT NOT NULL);
	CREATE INDEX login_failures_first ON login_failures (first_failure);`,
}

func (s *Store) migrate(ctx context.Context) error {
	// Two PostgreSQL sessions creating the table at once may both pass
	// IF NOT EXISTS and one then fails: trying again finds it.
	var err error
	for try := 0; try < 3; try++ {
		if _, err = s.db.ExecContext(ctx,
			`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	var current int
	if err := s.db.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this muster (%d): upgrade muster",
			current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		ddl := s.d.ddl(migrations[v-1])
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Nodes starting together on one store each try the migration:
			// they queue here (SQLite's transactions already take the write
			// lock at BEGIN) and a late one finds it applied.
			if s.d.postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7305896421)`); err != nil {
					return err
				}
			}
			var done int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`),
				v).Scan(&done); err != nil || done > 0 {
				return err
			}
			for _, stmt := range strings.Split(ddl, ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version) VALUES (?)`), v)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (d dialect) ddl(s string) string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d.postgres {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	bytes, random := "BLOB", "lower(hex(randomblob(16)))"
	if d.postgres {
		bytes, random = "BYTEA", "md5(random()::text || clock_timestamp()::text)"
	}
	return strings.NewReplacer("{{id}}", id, "{{bytes}}", bytes, "{{random}}", random).Replace(s)
}
