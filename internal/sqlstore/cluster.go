package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/muster-project/muster/internal/cluster"
)

// The cluster registry (cluster.Store): one row per node in cluster_nodes,
// the master lease and the cluster key in cluster_state's row 1.

var _ cluster.Store = (*Store)(nil)

func ms(t time.Time) int64 { return t.UnixMilli() }

// Heartbeat implements cluster.Store.
func (s *Store) Heartbeat(ctx context.Context, r cluster.Record, stale time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE cluster_nodes SET instance = ?, address = ?, cert_sha256 = ?,
		version = ?, started = ?, heartbeat = ? WHERE name = ? AND (instance = ? OR heartbeat < ?)`),
		r.Instance, r.Address, r.CertSHA256, r.Version, ms(r.Started), ms(r.Heartbeat), r.Name, r.Instance, ms(stale))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO cluster_nodes (name, instance, address, cert_sha256, version,
		started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		r.Name, r.Instance, r.Address, r.CertSHA256, r.Version, ms(r.Started), ms(r.Heartbeat))
	if isUnique(err) {
		return cluster.ErrNameTaken // a live row of another instance
	}
	return err
}

// Nodes implements cluster.Store.
func (s *Store) Nodes(ctx context.Context, since time.Time) ([]cluster.Record, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT name, instance, address, cert_sha256, version, started, heartbeat
		FROM cluster_nodes WHERE heartbeat >= ? ORDER BY name`), ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cluster.Record
	for rows.Next() {
		var r cluster.Record
		var started, beat int64
		if err := rows.Scan(&r.Name, &r.Instance, &r.Address, &r.CertSHA256, &r.Version, &started, &beat); err != nil {
			return nil, err
		}
		r.Started, r.Heartbeat = time.UnixMilli(started), time.UnixMilli(beat)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RemoveNode implements cluster.Store.
func (s *Store) RemoveNode(ctx context.Context, name, instance string) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM cluster_nodes WHERE name = ? AND instance = ?`), name, instance)
	return err
}

// ClaimLease implements cluster.Store: one conditional UPDATE, so that of
// nodes claiming an ended lease at once exactly one gets it.
func (s *Store) ClaimLease(ctx context.Context, holder, instance string, now, until time.Time) (cluster.Lease, error) {
	if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE cluster_state SET master = ?, instance = ?, lease_until = ?
		WHERE id = 1 AND (instance = ? OR lease_until < ?)`), holder, instance, ms(until), instance, ms(now)); err != nil {
		return cluster.Lease{}, err
	}
	var l cluster.Lease
	var u int64
	err := s.db.QueryRowContext(ctx, `SELECT master, instance, lease_until FROM cluster_state WHERE id = 1`).
		Scan(&l.Holder, &l.Instance, &u)
	l.Until = time.UnixMilli(u)
	return l, err
}

// ReleaseLease implements cluster.Store.
func (s *Store) ReleaseLease(ctx context.Context, instance string) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`UPDATE cluster_state SET lease_until = 0 WHERE id = 1 AND instance = ?`),
		instance)
	return err
}

// ClusterKey implements cluster.Store.
func (s *Store) ClusterKey(ctx context.Context, fresh string) (string, error) {
	if _, err := s.db.ExecContext(ctx, s.d.q(`UPDATE cluster_state SET secret = ? WHERE id = 1 AND secret = ''`),
		fresh); err != nil {
		return "", err
	}
	var k string
	err := s.db.QueryRowContext(ctx, `SELECT secret FROM cluster_state WHERE id = 1`).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) || err == nil && k == "" {
		return "", errors.New("cluster_state has no key")
	}
	return k, err
}
