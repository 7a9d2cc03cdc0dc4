package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

// groupID returns the id of a group row, creating it when missing; ids
// caches the answers of one transaction.
func (s *Store) groupID(ctx context.Context, tx *sql.Tx, name string, ids map[string]int64) (int64, error) {
	if id, ok := ids[name]; ok {
		return id, nil
	}
	if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO agent_groups (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
		name); err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, s.d.q("SELECT id FROM agent_groups WHERE name = ?"), name).Scan(&id); err != nil {
		return 0, err
	}
	ids[name] = id
	return id, nil
}

// setBelongs rewrites the membership rows of agents from their group lists.
func (s *Store) setBelongs(ctx context.Context, tx *sql.Tx, changes []core.GroupChange, ids map[string]int64) error {
	if len(changes) == 0 {
		return nil
	}
	var del strings.Builder
	args := make([]any, 0, len(changes))
	del.WriteString("DELETE FROM belongs WHERE id_agent IN (")
	for i, c := range changes {
		if i > 0 {
			del.WriteString(", ")
		}
		del.WriteString("?")
		args = append(args, c.ID)
	}
	del.WriteString(")")
	if _, err := tx.ExecContext(ctx, s.d.q(del.String()), args...); err != nil {
		return err
	}
	var ins strings.Builder
	args = args[:0]
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.d.q("INSERT INTO belongs (id_agent, id_group, priority) VALUES "+ins.String()), args...)
		ins.Reset()
		args, n = args[:0], 0
		return err
	}
	for _, c := range changes {
		for prio, g := range c.Groups {
			gid, err := s.groupID(ctx, tx, g, ids)
			if err != nil {
				return err
			}
			if n > 0 {
				ins.WriteString(", ")
			}
			ins.WriteString("(?, ?, ?)")
			args = append(args, c.ID, gid, prio)
			n++
			if n == 300 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// SetAgentGroups implements core.AgentStore.
func (s *Store) SetAgentGroups(ctx context.Context, changes []core.GroupChange) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.d.q(`UPDATE agent SET "group" = ?, group_hash = ? WHERE id = ?`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range changes {
			var hash any
			if len(c.Groups) > 0 {
				hash = core.GroupHash(c.Groups)
			}
			if _, err := stmt.ExecContext(ctx, joinGroups(c.Groups), hash, c.ID); err != nil {
				return err
			}
		}
		ids := map[string]int64{}
		for start := 0; start < len(changes); start += 500 {
			if err := s.setBelongs(ctx, tx, changes[start:min(start+500, len(changes))], ids); err != nil {
				return err
			}
		}
		return nil
	})
}

// Groups implements core.AgentStore.
func (s *Store) Groups(ctx context.Context, f *core.AgentFilter) (map[string]int, error) {
	query := `SELECT g.name, COUNT(b.id_agent) FROM agent_groups g LEFT JOIN belongs b ON b.id_group = g.id`
	var args []any
	if f != nil {
		where, a, err := s.d.agentWhere(*f)
		if err != nil {
			return nil, err
		}
		query += " AND b.id_agent IN (SELECT id FROM agent WHERE " + where + ")"
		args = a
	}
	rows, err := s.db.QueryContext(ctx, query+" GROUP BY g.name", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// CreateGroups implements core.AgentStore.
func (s *Store) CreateGroups(ctx context.Context, names []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ids := map[string]int64{}
		for _, n := range names {
			if _, err := s.groupID(ctx, tx, n, ids); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteGroup implements core.AgentStore.
func (s *Store) DeleteGroup(ctx context.Context, name string) ([]int, error) {
	var changed []int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if changed, err = queryIDs(ctx, tx, s.d.q(groupMembers+"?"), name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM agent_groups WHERE name = ?"), name); err != nil {
			return err
		}
		var updates []core.GroupChange
		for _, id := range changed {
			var csv sql.NullString
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT "group" FROM agent WHERE id = ?`), id).Scan(&csv); err != nil {
				return err
			}
			var left []string
			for _, g := range splitGroups(csv) {
				if g != name {
					left = append(left, g)
				}
			}
			if len(left) == 0 {
				left = []string{core.DefaultGroup}
			}
			updates = append(updates, core.GroupChange{ID: id, Groups: left})
		}
		ids := map[string]int64{}
		for _, c := range updates {
			if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE agent SET "group" = ?, group_hash = ? WHERE id = ?`),
				joinGroups(c.Groups), core.GroupHash(c.Groups), c.ID); err != nil {
				return err
			}
		}
		return s.setBelongs(ctx, tx, updates, ids)
	})
	return changed, err
}
