package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

// GroupState implements core.GroupFileStore.
func (s *Store) GroupState(ctx context.Context) (int64, string, error) {
	var v int64
	var epoch string
	err := s.db.QueryRowContext(ctx, `SELECT version, epoch FROM group_state WHERE id = 1`).Scan(&v, &epoch)
	return v, epoch, err
}

// ListGroupFiles implements core.GroupFileStore.
func (s *Store) ListGroupFiles(ctx context.Context) ([]core.GroupFileRow, error) {
	return s.groupRows(ctx, `SELECT group_name, file_name, checksum, mtime FROM group_files
		ORDER BY group_name, file_name`, false)
}

// ReadGroupFiles implements core.GroupFileStore.
func (s *Store) ReadGroupFiles(ctx context.Context, groups []string) ([]core.GroupFileRow, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	var out []core.GroupFileRow
	for start := 0; start < len(groups); start += 500 {
		part := groups[start:min(start+500, len(groups))]
		args := make([]any, len(part))
		for i, g := range part {
			args[i] = g
		}
		rows, err := s.groupRows(ctx, `SELECT group_name, file_name, checksum, mtime, content FROM group_files
			WHERE group_name IN (?`+strings.Repeat(", ?", len(part)-1)+`) ORDER BY group_name, file_name`, true, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

func (s *Store) groupRows(ctx context.Context, query string, data bool, args ...any) ([]core.GroupFileRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.GroupFileRow
	for rows.Next() {
		var r core.GroupFileRow
		dst := []any{&r.Group, &r.Name, &r.Sum, &r.MTime}
		if data {
			dst = append(dst, &r.Data)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if data && r.Data == nil {
			r.Data = []byte{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ApplyGroupFiles implements core.GroupFileStore. The version bump comes
// first: it locks the state row, so group writes of every node are
// serialised and none sees another half done.
func (s *Store) ApplyGroupFiles(ctx context.Context, changes []core.GroupFileChange) ([]bool, error) {
	applied := make([]bool, len(changes))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE group_state SET version = version + 1 WHERE id = 1`); err != nil {
			return err
		}
		for i, c := range changes {
			ok, err := s.applyGroupFile(ctx, tx, c)
			if err != nil {
				return err
			}
			applied[i] = ok
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

func (s *Store) applyGroupFile(ctx context.Context, tx *sql.Tx, c core.GroupFileChange) (bool, error) {
	exec := func(query string, args ...any) (bool, error) {
		res, err := tx.ExecContext(ctx, s.d.q(query), args...)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n > 0, err
	}
	if c.Delete {
		switch {
		case c.Name == "":
			return exec(`DELETE FROM group_files WHERE group_name = ?`, c.Group)
		case c.IfSum != "":
			return exec(`DELETE FROM group_files WHERE group_name = ? AND file_name = ? AND checksum = ?`,
				c.Group, c.Name, c.IfSum)
		}
		return exec(`DELETE FROM group_files WHERE group_name = ? AND file_name = ?`, c.Group, c.Name)
	}
	if c.Group != "" && c.Name != "" {
		var one int
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM group_files WHERE group_name = ? AND file_name = ''`),
			c.Group).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // the group is gone: its files go with it
		}
		if err != nil {
			return false, err
		}
	}
	data := c.Data
	if data == nil {
		data = []byte{}
	}
	insert := `INSERT INTO group_files (group_name, file_name, content, checksum, mtime) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (group_name, file_name) DO `
	switch {
	case c.IfAbsent:
		return exec(insert+`NOTHING`, c.Group, c.Name, data, c.Sum, c.MTime)
	case c.NotOlder:
		return exec(insert+`UPDATE SET content = excluded.content, checksum = excluded.checksum, mtime = excluded.mtime
			WHERE group_files.mtime <= excluded.mtime`, c.Group, c.Name, data, c.Sum, c.MTime)
	}
	return exec(insert+`UPDATE SET content = excluded.content, checksum = excluded.checksum, mtime = excluded.mtime`,
		c.Group, c.Name, data, c.Sum, c.MTime)
}

// SetGroupConfigStatus implements core.GroupFileStore. The members of the
// list's first group are found through belongs' index, not a scan of agent.
func (s *Store) SetGroupConfigStatus(ctx context.Context, groups string, sum string) error {
	first, _, _ := strings.Cut(groups, ",")
	_, err := s.db.ExecContext(ctx, s.d.q(`UPDATE agent SET group_config_status =
			CASE WHEN merged_sum = ? THEN 'synced' ELSE 'not synced' END
		WHERE id IN (SELECT b.id_agent FROM belongs b JOIN agent_groups g ON g.id = b.id_group WHERE g.name = ?)
			AND "group" = ? AND id > 0 AND group_config_status <>
			CASE WHEN merged_sum = ? THEN 'synced' ELSE 'not synced' END`), sum, first, groups, sum)
	return err
}
