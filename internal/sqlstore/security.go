package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/muster-project/muster/internal/core"
)

// LoadSecurity reads the whole security layer.
func (s *Store) LoadSecurity(ctx context.Context) (*core.SecurityData, error) {
	d := &core.SecurityData{
		UserRevoked:  map[int]core.Revocation{},
		RoleRevoked:  map[int]core.Revocation{},
		IssuedTokens: map[string]int64{},
		Config:       core.DefaultSecurityConfig(),
	}
	// One read transaction gives one consistent picture. On PostgreSQL that
	// takes REPEATABLE READ: under the default READ COMMITTED each query sees
	// the commits made before it, so a write landing between two of them
	// left a snapshot holding the new version with old rows, and no later
	// version check would have re-read it. SQLite's transactions are
	// serializable already.
	var opts *sql.TxOptions
	if s.d.postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := func(query string, scan func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = errors.Join(
		q(`SELECT id, username, password, allow_run_as, created_at FROM users ORDER BY id`, func(r *sql.Rows) error {
			var u core.User
			var runAs int
			err := r.Scan(&u.ID, &u.Username, &u.Password, &runAs, &u.CreatedAt)
			u.AllowRunAs = runAs != 0
			d.Users = append(d.Users, u)
			return err
		}),
		q(`SELECT id, name, created_at FROM roles ORDER BY id`, func(r *sql.Rows) error {
			var x core.Role
			err := r.Scan(&x.ID, &x.Name, &x.CreatedAt)
			d.Roles = append(d.Roles, x)
			return err
		}),
		q(`SELECT id, name, policy, created_at FROM policies ORDER BY id`, func(r *sql.Rows) error {
			var x core.Policy
			var body string
			err := r.Scan(&x.ID, &x.Name, &body, &x.CreatedAt)
			x.Body = []byte(body)
			d.Policies = append(d.Policies, x)
			return err
		}),
		q(`SELECT id, name, rule, created_at FROM rules ORDER BY id`, func(r *sql.Rows) error {
			var x core.Rule
			var body string
			err := r.Scan(&x.ID, &x.Name, &body, &x.CreatedAt)
			x.Body = []byte(body)
			d.Rules = append(d.Rules, x)
			return err
		}),
		q(`SELECT id, user_id, role_id, level, created_at FROM user_roles ORDER BY id`, linkScan(&d.UserRoles)),
		q(`SELECT id, role_id, policy_id, level, created_at FROM roles_policies ORDER BY id`, linkScan(&d.RolePolicies)),
		q(`SELECT id, role_id, rule_id, level, created_at FROM roles_rules ORDER BY id`, linkScan(&d.RoleRules)),
		q(`SELECT user_id, nbf_invalid_until, is_valid_until, seq FROM users_token_blacklist`, func(r *sql.Rows) error {
			var id int
			var v core.Revocation
			err := r.Scan(&id, &v.NbfInvalidUntil, &v.IsValidUntil, &v.Seq)
			d.UserRevoked[id] = v
			return err
		}),
		q(`SELECT role_id, nbf_invalid_until, is_valid_until, seq FROM roles_token_blacklist`, func(r *sql.Rows) error {
			var id int
			var v core.Revocation
			err := r.Scan(&id, &v.NbfInvalidUntil, &v.IsValidUntil, &v.Seq)
			d.RoleRevoked[id] = v
			return err
		}),
		q(`SELECT nbf_invalid_until, is_valid_until, seq FROM runas_token_blacklist`, func(r *sql.Rows) error {
			var v core.Revocation
			err := r.Scan(&v.NbfInvalidUntil, &v.IsValidUntil, &v.Seq)
			d.RunAsRevoked = &v
			return err
		}),
		q(`SELECT digest, seq FROM issued_tokens`, func(r *sql.Rows) error {
			var digest string
			var seq int64
			err := r.Scan(&digest, &seq)
			d.IssuedTokens[digest] = seq
			return err
		}),
		q(`SELECT key, value FROM settings`, func(r *sql.Rows) error {
			var k, v string
			if err := r.Scan(&k, &v); err != nil {
				return err
			}
			switch k {
			case "security_version":
				d.Version, _ = strconv.ParseInt(v, 10, 64)
			case "auth_token_exp_timeout":
				d.Config.AuthTokenExpTimeout, _ = strconv.Atoi(v)
			case "rbac_mode":
				d.Config.RBACMode = v
			case "jwt_private_key":
				d.SigningKey = v
			}
			return nil
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("load security: %w", err)
	}
	return d, nil
}

func linkScan(dst *[]core.Link) func(*sql.Rows) error {
	return func(r *sql.Rows) error {
		var l core.Link
		err := r.Scan(&l.ID, &l.From, &l.To, &l.Level, &l.CreatedAt)
		*dst = append(*dst, l)
		return err
	}
}

// SecurityVersion returns the counter every security write bumps.
func (s *Store) SecurityVersion(ctx context.Context) (int64, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT value FROM settings WHERE key = ?`), "security_version").Scan(&v)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// UpdateSecurity runs fn in one transaction and bumps the security version;
// on PostgreSQL the transaction also notifies the new version (see
// ListenSecurity).
// The bump comes first: it locks the version row until commit, so security
// writes are serialised and the version this write commits is known inside
// it (blacklist rows are stamped with it, see core.Revocation.Seq).
func (s *Store) UpdateSecurity(ctx context.Context, fn func(core.SecurityTx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q(
			`UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = ?`), "security_version"); err != nil {
			return err
		}
		var v string
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT value FROM settings WHERE key = ?`), "security_version").Scan(&v); err != nil {
			return err
		}
		version, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("security version %q: %w", v, err)
		}
		st := &secTx{ctx: ctx, tx: tx, d: s.d, version: version}
		if err := fn(st); err != nil {
			return err
		}
		// Other nodes listening learn of the change as it commits.
		return st.notifySecurity()
	})
}

type secTx struct {
	ctx     context.Context
	tx      *sql.Tx
	d       dialect
	version int64 // the security version this transaction commits
}

func (t *secTx) exec(query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(t.ctx, t.d.q(query), args...)
	if isUnique(err) {
		return nil, fmt.Errorf("%w: %v", core.ErrConflict, err)
	}
	return res, err
}

// mustAffect turns "no row changed" into core.ErrNotFound.
func mustAffect(res sql.Result, err error, what string, id int) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, core.ErrNotFound)
	}
	return nil
}

// nextID allocates ids as Wazuh does: 100 while the highest id is below 99,
// else highest+1.
func (t *secTx) nextID(table string, id int) (int, error) {
	if id != 0 {
		return id, nil
	}
	var max int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&max); err != nil {
		return 0, err
	}
	if max < core.MaxReservedID {
		return core.MaxReservedID + 1, nil
	}
	return max + 1, nil
}

func (t *secTx) insert(table, cols string, id int, args ...any) (int, error) {
	id, err := t.nextID(table, id)
	if err != nil {
		return 0, err
	}
	_, err = t.exec(`INSERT INTO `+table+` (id, `+cols+`) VALUES (?`+repeat(", ?", len(args))+`)`,
		append([]any{id}, args...)...)
	return id, err
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *secTx) InsertUser(u core.User) (int, error) {
	return t.insert("users", "username, password, allow_run_as, created_at", u.ID,
		u.Username, u.Password, b2i(u.AllowRunAs), u.CreatedAt)
}

func (t *secTx) UpdateUser(u core.User) error {
	res, err := t.exec(`UPDATE users SET username = ?, password = ?, allow_run_as = ? WHERE id = ?`,
		u.Username, u.Password, b2i(u.AllowRunAs), u.ID)
	return mustAffect(res, err, "user", u.ID)
}

func (t *secTx) DeleteUser(id int) error {
	res, err := t.exec(`DELETE FROM users WHERE id = ?`, id)
	return mustAffect(res, err, "user", id)
}

func (t *secTx) InsertRole(r core.Role) (int, error) {
	return t.insert("roles", "name, created_at", r.ID, r.Name, r.CreatedAt)
}

func (t *secTx) UpdateRole(r core.Role) error {
	res, err := t.exec(`UPDATE roles SET name = ? WHERE id = ?`, r.Name, r.ID)
	return mustAffect(res, err, "role", r.ID)
}

func (t *secTx) DeleteRole(id int) error {
	res, err := t.exec(`DELETE FROM roles WHERE id = ?`, id)
	return mustAffect(res, err, "role", id)
}

func (t *secTx) InsertPolicy(p core.Policy) (int, error) {
	return t.insert("policies", "name, policy, created_at", p.ID, p.Name, string(p.Body), p.CreatedAt)
}

func (t *secTx) UpdatePolicy(p core.Policy) error {
	res, err := t.exec(`UPDATE policies SET name = ?, policy = ? WHERE id = ?`, p.Name, string(p.Body), p.ID)
	return mustAffect(res, err, "policy", p.ID)
}

func (t *secTx) DeletePolicy(id int) error {
	res, err := t.exec(`DELETE FROM policies WHERE id = ?`, id)
	return mustAffect(res, err, "policy", id)
}

func (t *secTx) InsertRule(r core.Rule) (int, error) {
	return t.insert("rules", "name, rule, created_at", r.ID, r.Name, string(r.Body), r.CreatedAt)
}

func (t *secTx) UpdateRule(r core.Rule) error {
	res, err := t.exec(`UPDATE rules SET name = ?, rule = ? WHERE id = ?`, r.Name, string(r.Body), r.ID)
	return mustAffect(res, err, "rule", r.ID)
}

func (t *secTx) DeleteRule(id int) error {
	res, err := t.exec(`DELETE FROM rules WHERE id = ?`, id)
	return mustAffect(res, err, "rule", id)
}

var linkCols = map[string][2]string{
	core.UserRolesTable:    {"user_id", "role_id"},
	core.RolePoliciesTable: {"role_id", "policy_id"},
	core.RoleRulesTable:    {"role_id", "rule_id"},
}

func (t *secTx) linkCols(table string) ([2]string, error) {
	c, ok := linkCols[table]
	if !ok {
		return c, fmt.Errorf("unknown link table %q", table)
	}
	return c, nil
}

func (t *secTx) InsertLink(table string, l core.Link) error {
	c, err := t.linkCols(table)
	if err != nil {
		return err
	}
	if l.ID != 0 {
		if _, err = t.exec(`INSERT INTO `+table+` (id, `+c[0]+`, `+c[1]+`, level, created_at) VALUES (?, ?, ?, ?, ?)`,
			l.ID, l.From, l.To, l.Level, l.CreatedAt); err != nil || !t.d.postgres {
			return err
		}
		// An explicit id does not move PostgreSQL's identity counter: move
		// it past the id, or the next link made without one collides.
		_, err = t.exec(`SELECT setval(pg_get_serial_sequence('` + table + `', 'id'), (SELECT MAX(id) FROM ` + table + `))`)
		return err
	}
	_, err = t.exec(`INSERT INTO `+table+` (`+c[0]+`, `+c[1]+`, level, created_at) VALUES (?, ?, ?, ?)`,
		l.From, l.To, l.Level, l.CreatedAt)
	return err
}

func (t *secTx) UpdateLinkLevel(table string, from, to, level int) error {
	c, err := t.linkCols(table)
	if err != nil {
		return err
	}
	res, err := t.exec(`UPDATE `+table+` SET level = ? WHERE `+c[0]+` = ? AND `+c[1]+` = ?`, level, from, to)
	return mustAffect(res, err, table, from)
}

func (t *secTx) DeleteLink(table string, from, to int) error {
	c, err := t.linkCols(table)
	if err != nil {
		return err
	}
	res, err := t.exec(`DELETE FROM `+table+` WHERE `+c[0]+` = ? AND `+c[1]+` = ?`, from, to)
	return mustAffect(res, err, table, from)
}

func (t *secTx) upsertRevocation(table, col string, id int, r core.Revocation) error {
	if _, err := t.exec(`DELETE FROM `+table+` WHERE `+col+` = ?`, id); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO `+table+` (`+col+`, nbf_invalid_until, is_valid_until, seq) VALUES (?, ?, ?, ?)`,
		id, r.NbfInvalidUntil, r.IsValidUntil, t.version)
	return err
}

func (t *secTx) RevokeUser(id int, r core.Revocation) error {
	return t.upsertRevocation("users_token_blacklist", "user_id", id, r)
}

func (t *secTx) RevokeRole(id int, r core.Revocation) error {
	return t.upsertRevocation("roles_token_blacklist", "role_id", id, r)
}

func (t *secTx) RevokeRunAs(r core.Revocation) error {
	if _, err := t.exec(`DELETE FROM runas_token_blacklist`); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO runas_token_blacklist (nbf_invalid_until, is_valid_until, seq) VALUES (?, ?, ?)`,
		r.NbfInvalidUntil, r.IsValidUntil, t.version)
	return err
}

// revocationTables are the blacklists and the issue records that qualify them.
var revocationTables = []string{"users_token_blacklist", "roles_token_blacklist", "runas_token_blacklist", "issued_tokens"}

// RecordIssue stores the security version a token was issued from.
func (t *secTx) RecordIssue(digest string, seq, validUntil int64) error {
	if _, err := t.exec(`DELETE FROM issued_tokens WHERE digest = ?`, digest); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO issued_tokens (digest, seq, is_valid_until) VALUES (?, ?, ?)`, digest, seq, validUntil)
	return err
}

func (t *secTx) ClearRevocations() error {
	for _, table := range revocationTables {
		if _, err := t.exec(`DELETE FROM ` + table); err != nil {
			return err
		}
	}
	return nil
}

func (t *secTx) PurgeRevocations(now int64) error {
	for _, table := range revocationTables {
		if _, err := t.exec(`DELETE FROM `+table+` WHERE is_valid_until < ?`, now); err != nil {
			return err
		}
	}
	return nil
}

func (t *secTx) setting(key, value string) error {
	if _, err := t.exec(`DELETE FROM settings WHERE key = ?`, key); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO settings (key, value) VALUES (?, ?)`, key, value)
	return err
}

func (t *secTx) SetConfig(c core.SecurityConfig) error {
	return errors.Join(t.setting("auth_token_exp_timeout", strconv.Itoa(c.AuthTokenExpTimeout)),
		t.setting("rbac_mode", c.RBACMode))
}

func (t *secTx) SetSigningKey(pem string) error { return t.setting("jwt_private_key", pem) }
