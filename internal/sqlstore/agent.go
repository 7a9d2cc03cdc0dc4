package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// agentInsertCols are the columns PutAgents writes, in argument order.
const agentInsertCols = `id, name, ip, register_ip, internal_key, os_name, os_version, os_major, os_minor,
	os_codename, os_build, os_platform, os_uname, os_arch, version, version_key, config_sum, merged_sum,
	manager_host, node_name, date_add, last_keepalive, "group", group_hash, connection_status,
	disconnection_time, group_config_status, status_code`

const agentInsertN = 28

func agentArgs(a *core.Agent) []any {
	var vkey any
	if a.Version.Valid {
		vkey = agentql.VersionKey(a.Version.V)
	}
	node := "unknown"
	if a.NodeName.Valid {
		node = a.NodeName.V
	}
	status := a.Status
	if status == "" {
		status = core.AgentNeverConnected
	}
	gcs := a.GroupConfigStatus
	if gcs == "" {
		gcs = core.ConfigNotSynced
	}
	var key any
	if a.Key != "" {
		key = a.Key
	}
	var ghash any
	if len(a.Groups) > 0 {
		ghash = core.GroupHash(a.Groups)
	}
	o := &a.OS
	return []any{a.ID, a.Name, nullStr(a.IP), nullStr(a.RegisterIP), key, nullStr(o.Name), nullStr(o.Version),
		nullStr(o.Major), nullStr(o.Minor), nullStr(o.Codename), nullStr(o.Build), nullStr(o.Platform),
		nullStr(o.Uname), nullStr(o.Arch), nullStr(a.Version), vkey, nullStr(a.ConfigSum), nullStr(a.MergedSum),
		nullStr(a.Manager), node, a.DateAdd, nullInt(a.LastKeepAlive), joinGroups(a.Groups), ghash, status,
		a.DisconnectionTime, gcs, a.StatusCode}
}

// PutAgents implements core.AgentStore, in chunks of multi-row upserts.
func (s *Store) PutAgents(ctx context.Context, agents []core.Agent) error {
	const chunk = 200
	var set []string
	for _, c := range strings.Split(agentInsertCols, ",") {
		c = strings.TrimSpace(c)
		if c != "id" {
			set = append(set, c+" = excluded."+c)
		}
	}
	upsert := " ON CONFLICT (id) DO UPDATE SET " + strings.Join(set, ", ")
	return s.inTx(ctx, func(tx *sql.Tx) error {
		groups := map[string]int64{}
		maxID := 0
		for start := 0; start < len(agents); start += chunk {
			part := agents[start:min(start+chunk, len(agents))]
			var b strings.Builder
			args := make([]any, 0, len(part)*agentInsertN)
			b.WriteString("INSERT INTO agent (" + agentInsertCols + ") VALUES ")
			for i := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", agentInsertN), ", ") + ")")
				args = append(args, agentArgs(&part[i])...)
				maxID = max(maxID, part[i].ID)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(b.String()+upsert), args...); err != nil {
				return err
			}
			var changes []core.GroupChange
			for _, a := range part {
				changes = append(changes, core.GroupChange{ID: a.ID, Groups: a.Groups})
			}
			if err := s.setBelongs(ctx, tx, changes, groups); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.d.q(`UPDATE agent_registry SET version = version + 1,
			last_id = CASE WHEN last_id < ? THEN ? ELSE last_id END WHERE id = 1`), maxID, maxID)
		return err
	})
}

// agentState is what the force rules look at in an existing agent.
const agentStateCols = "id, connection_status, disconnection_time, date_add"

func scanState(row *sql.Row) (*core.Agent, error) {
	var a core.Agent
	err := row.Scan(&a.ID, &a.Status, &a.DisconnectionTime, &a.DateAdd)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// prepared returns a statement of the store prepared once: database/sql
// keeps it prepared on each connection that runs it, so enrollment batches
// do not parse their SQL (and its triggers) again.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.d.q(query))
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// txStmts runs the store's prepared statements inside one transaction.
type txStmts struct {
	ctx   context.Context
	tx    *sql.Tx
	s     *Store
	stmts map[string]*sql.Stmt
}

func (t *txStmts) get(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	shared, err := t.s.prepared(t.ctx, query)
	if err != nil {
		return nil, err
	}
	st := t.tx.StmtContext(t.ctx, shared)
	t.stmts[query] = st
	return st, nil
}

func (t *txStmts) exec(query string, args ...any) error {
	st, err := t.get(query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(t.ctx, args...)
	return err
}

func (t *txStmts) close() {
	for _, st := range t.stmts {
		st.Close()
	}
}

// RegisterAgents implements core.AgentStore (authd's checks, agents.md §4.1).
func (s *Store) RegisterAgents(ctx context.Context, es []core.Enrollment) ([]core.EnrollResult, error) {
	res := make([]core.EnrollResult, len(es))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.d.postgres {
			lock = " FOR UPDATE"
		}
		var last, maxID int64
		if err := tx.QueryRowContext(ctx, "SELECT last_id FROM agent_registry WHERE id = 1"+lock).Scan(&last); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM agent").Scan(&maxID); err != nil {
			return err
		}
		last = max(last, maxID)
		ts := &txStmts{ctx: ctx, tx: tx, s: s, stmts: map[string]*sql.Stmt{}}
		defer ts.close()
		added := 0
		for i, e := range es {
			r, err := enroll(ts, e, &last)
			if err != nil {
				return err
			}
			res[i] = r
			if r.Err == nil {
				added++
			}
		}
		_, err := tx.ExecContext(ctx, s.d.q("UPDATE agent_registry SET last_id = ?, version = version + ? WHERE id = 1"),
			last, added)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func enroll(ts *txStmts, e core.Enrollment, last *int64) (core.EnrollResult, error) {
	replace := map[int]bool{}
	dup := func(query string, arg any, code int, extra string) (*core.Error, error) {
		st, err := ts.get("SELECT " + agentStateCols + " FROM agent WHERE " + query)
		if err != nil {
			return nil, err
		}
		old, err := scanState(st.QueryRowContext(ts.ctx, arg))
		if err != nil || old == nil || replace[old.ID] {
			return nil, err
		}
		if e.Force.Replaceable(old, e.Now) {
			replace[old.ID] = true
			return nil, nil
		}
		return core.Ef(code, "%s", extra), nil
	}
	checks := []struct {
		on    bool
		query string
		arg   any
		code  int
		extra string
	}{
		{e.ID != 0, "id = ?", e.ID, 1708, core.FormatAgentID(e.ID)},
		{e.IP != "any", "register_ip = ? AND id > 0 LIMIT 1", e.IP, 1706, e.IP},
	}
	for _, c := range checks {
		if !c.on {
			continue
		}
		if ce, err := dup(c.query, c.arg, c.code, c.extra); err != nil || ce != nil {
			return core.EnrollResult{Err: ce}, err
		}
	}
	if e.ManagerName != "" && e.Name == e.ManagerName {
		return core.EnrollResult{Err: core.Ef(1705, "%s", e.Name)}, nil
	}
	if ce, err := dup("name = ? AND id > 0", e.Name, 1705, e.Name); err != nil || ce != nil {
		return core.EnrollResult{Err: ce}, err
	}
	var r core.EnrollResult
	for id := range replace {
		if err := ts.exec("DELETE FROM agent WHERE id = ?", id); err != nil {
			return r, err
		}
		r.Replaced = append(r.Replaced, id)
	}
	id := int64(e.ID)
	if id == 0 {
		id = *last + 1
	}
	*last = max(*last, id)
	err := ts.exec(`INSERT INTO agent (id, name, register_ip, internal_key, date_add) VALUES (?, ?, ?, ?, ?)`,
		id, e.Name, e.IP, e.Key, e.Now)
	if isUnique(err) {
		return r, fmt.Errorf("register agent %q: %w", e.Name, core.ErrConflict)
	}
	if err != nil {
		return r, err
	}
	r.ID = int(id)
	return r, nil
}

// queryIDs runs a query whose rows are one integer each (ids) and collects them.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteAgents implements core.AgentStore; agent 000 is never removed.
func (s *Store) DeleteAgents(ctx context.Context, ids []int) ([]int, error) {
	var out []int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w := agentql.NewWhere(s.d.ql(), time.Time{})
		cond := s.d.idSet(w, "id", ids)
		_, args := w.SQL()
		var err error
		if out, err = queryIDs(ctx, tx, "DELETE FROM agent WHERE id > 0 AND "+cond+" RETURNING id", args...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE agent_registry SET version = version + 1 WHERE id = 1")
		return err
	})
	return out, err
}
