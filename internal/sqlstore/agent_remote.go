package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// touchKey groups the plain keepalives of a batch that share one UPDATE.
type touchKey struct {
	status string
	now    int64
}

// UpdateAgentConnections implements core.ConnUpdater: the whole batch of
// the secure channel in one transaction. Plain keepalives (no new data)
// sharing a status and a second are one UPDATE over an id set; the others
// go through prepared statements. Agent 000 is never touched.
func (s *Store) UpdateAgentConnections(ctx context.Context, us []core.ConnUpdate) error {
	if len(us) == 0 {
		return nil
	}
	touches := map[touchKey][]int{}
	var full, other []*core.ConnUpdate
	for i := range us {
		u := &us[i]
		switch {
		case u.ID <= 0:
		case (u.Status == core.AgentActive || u.Status == core.AgentPending) && !u.Full:
			k := touchKey{u.Status, u.Now}
			touches[k] = append(touches[k], u.ID)
		case u.Full:
			full = append(full, u)
		default:
			other = append(other, u)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for k, ids := range touches {
			if err := s.touch(ctx, tx, k, ids); err != nil {
				return err
			}
		}
		if err := s.fullKeepalives(ctx, tx, full); err != nil {
			return err
		}
		return s.otherUpdates(ctx, tx, other)
	})
}

// touch records plain keepalives sharing a status and a second with one
// UPDATE over their id set.
func (s *Store) touch(ctx context.Context, tx *sql.Tx, k touchKey, ids []int) error {
	d := s.d.ql()
	if s.d.postgres {
		d = agentql.Postgres(2)
	}
	w := agentql.NewWhere(d, time.Time{})
	cond := s.d.idSet(w, "id", ids)
	_, args := w.SQL()
	q := `UPDATE agent SET connection_status = ` + s.d.ph(1) + `, last_keepalive = ` + s.d.ph(2) +
		`, disconnection_time = 0, status_code = 0 WHERE id > 0 AND ` + cond
	_, err := tx.ExecContext(ctx, q, append([]any{k.status, k.now}, args...)...)
	return err
}

func (s *Store) fullKeepalives(ctx context.Context, tx *sql.Tx, us []*core.ConnUpdate) error {
	if len(us) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, s.d.q(`UPDATE agent SET connection_status = ?, status_code = 0,
		disconnection_time = 0, last_keepalive = ?, ip = coalesce(?, ip), os_name = ?, os_version = ?,
		os_major = ?, os_minor = ?, os_codename = ?, os_build = ?, os_platform = ?, os_uname = ?, os_arch = ?,
		version = ?, version_key = ?, config_sum = ?, merged_sum = ?, manager_host = ?, node_name = ?,
		group_config_status = ? WHERE id = ? AND id > 0`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, u := range us {
		k := &u.Keepalive
		var vkey any
		if k.Version.Valid {
			vkey = agentql.VersionKey(k.Version.V)
		}
		o := &k.OS
		gcs := k.GroupConfigStatus
		if gcs == "" {
			gcs = core.ConfigNotSynced
		}
		if _, err := stmt.ExecContext(ctx, k.Status, k.Now, nullStr(k.IP), nullStr(o.Name), nullStr(o.Version),
			nullStr(o.Major), nullStr(o.Minor), nullStr(o.Codename), nullStr(o.Build), nullStr(o.Platform),
			nullStr(o.Uname), nullStr(o.Arch), nullStr(k.Version), vkey, nullStr(k.ConfigSum), nullStr(k.MergedSum),
			nullStr(k.Manager), k.NodeName, gcs, k.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) otherUpdates(ctx context.Context, tx *sql.Tx, us []*core.ConnUpdate) error {
	for _, u := range us {
		var err error
		switch u.Status {
		case core.AgentDisconnected:
			_, err = tx.ExecContext(ctx, s.d.q(`UPDATE agent SET connection_status = 'disconnected',
				disconnection_time = ?, status_code = ? WHERE id = ? AND id > 0`), u.Now, u.StatusCode, u.ID)
		case "":
			var vkey any
			if u.Version.Valid {
				vkey = agentql.VersionKey(u.Version.V)
			}
			_, err = tx.ExecContext(ctx, s.d.q(`UPDATE agent SET status_code = ?,
				version = coalesce(?, version), version_key = coalesce(?, version_key) WHERE id = ? AND id > 0`),
				u.StatusCode, nullStr(u.Version), vkey, u.ID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
