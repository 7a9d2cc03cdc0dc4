package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// AgentGroups implements core.AgentStore.
func (s *Store) AgentGroups(ctx context.Context, ids []int) (map[int][]string, error) {
	out := make(map[int][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	w := agentql.NewWhere(s.d.ql(), time.Time{})
	cond := s.d.idSet(w, "id", ids)
	_, args := w.SQL()
	rows, err := s.db.QueryContext(ctx, `SELECT id, "group" FROM agent WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var g sql.NullString
		if err := rows.Scan(&id, &g); err != nil {
			return nil, err
		}
		out[id] = splitGroups(g)
	}
	return out, rows.Err()
}

// GetAgents implements core.AgentStore: whole records, with the address
// the agent last connected from (not the registration fallback) and the key.
func (s *Store) GetAgents(ctx context.Context, ids []int) ([]core.Agent, error) {
	defer s.observe("get_agents", time.Now())
	if len(ids) == 0 {
		return nil, nil
	}
	cols := colsFor(core.AllAgentFields)
	exprs := exprList(cols)
	w := agentql.NewWhere(s.d.ql(), time.Time{})
	cond := s.d.idSet(w, "id", ids)
	_, args := w.SQL()
	rows, err := s.db.QueryContext(ctx, "SELECT "+exprs+", ip, internal_key FROM agent WHERE "+cond+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sc := newRowScanner(cols)
	var ip, key sql.NullString
	sc.dest = append(sc.dest, &ip, &key)
	var out []core.Agent
	for rows.Next() {
		var a core.Agent
		if err := sc.scan(rows, &a); err != nil {
			return nil, err
		}
		a.IP = core.Null[string]{V: ip.String, Valid: ip.Valid}
		a.Key = key.String
		out = append(out, a)
	}
	return out, rows.Err()
}

// KeyEntries implements core.AgentStore, reading in one transaction so the
// version matches the lines.
func (s *Store) KeyEntries(ctx context.Context) ([]core.KeyEntry, int64, error) {
	defer s.observe("key_entries", time.Now())
	var out []core.KeyEntry
	var version int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if err := tx.QueryRowContext(ctx, "SELECT version FROM agent_registry WHERE id = 1").Scan(&version); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			"SELECT id, name, coalesce(register_ip, 'any'), coalesce(internal_key, '') FROM agent WHERE id > 0 ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k core.KeyEntry
			if err := rows.Scan(&k.ID, &k.Name, &k.IP, &k.Key); err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	return out, version, err
}

// RegistryVersion implements core.AgentStore.
func (s *Store) RegistryVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT version FROM agent_registry WHERE id = 1").Scan(&v)
	return v, err
}

// SweepAgents implements core.AgentStore.
func (s *Store) SweepAgents(ctx context.Context, before, now int64) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE agent SET connection_status = 'disconnected',
		status_code = ?, disconnection_time = ?
		WHERE id > 0 AND connection_status IN ('active', 'pending') AND last_keepalive < ?`),
		core.StatusCodeNoKeepalive, now, before)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ResetAgents implements core.AgentStore.
func (s *Store) ResetAgents(ctx context.Context, node string, before, now int64) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE agent SET connection_status = 'disconnected',
		status_code = ?, disconnection_time = ?
		WHERE id > 0 AND connection_status IN ('active', 'pending') AND node_name = ?
		AND coalesce(last_keepalive, 0) < ?`),
		core.StatusCodeReset, now, node, before)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RecordKeepalive implements core.AgentStore.
func (s *Store) RecordKeepalive(ctx context.Context, k core.Keepalive) error {
	defer s.observe("keepalive", time.Now())
	var vkey any
	if k.Version.Valid {
		vkey = agentql.VersionKey(k.Version.V)
	}
	o := &k.OS
	gcs := k.GroupConfigStatus
	if gcs == "" {
		gcs = core.ConfigNotSynced
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE agent SET connection_status = ?, status_code = 0,
		disconnection_time = 0, last_keepalive = ?, ip = coalesce(?, ip), os_name = ?, os_version = ?,
		os_major = ?, os_minor = ?, os_codename = ?, os_build = ?, os_platform = ?, os_uname = ?, os_arch = ?,
		version = ?, version_key = ?, config_sum = ?, merged_sum = ?, manager_host = ?, node_name = ?,
		group_config_status = ? WHERE id = ? AND id > 0`),
		k.Status, k.Now, nullStr(k.IP), nullStr(o.Name), nullStr(o.Version), nullStr(o.Major), nullStr(o.Minor),
		nullStr(o.Codename), nullStr(o.Build), nullStr(o.Platform), nullStr(o.Uname), nullStr(o.Arch),
		nullStr(k.Version), vkey, nullStr(k.ConfigSum), nullStr(k.MergedSum), nullStr(k.Manager), k.NodeName,
		gcs, k.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.ErrNotFound
	}
	return nil
}
