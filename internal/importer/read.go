package importer

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/core"
	_ "modernc.org/sqlite" // reads Wazuh's SQLite files
)

// openSQLite opens a Wazuh SQLite file read-only and checks that it is whole.
func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	f.Close()
	if n < 16 || string(head[:15]) != "SQLite format 3" {
		return nil, fmt.Errorf("%s: not an SQLite database (bad or truncated header)", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: corrupted database: %w", path, err)
	}
	if res != "ok" {
		db.Close()
		return nil, fmt.Errorf("%s: corrupted database: %s", path, res)
	}
	return db, nil
}

// checkColumns requires a table to have exactly the expected columns.
func checkColumns(ctx context.Context, db *sql.DB, path, table string, want []string) error {
	rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		return fmt.Errorf("%s: table %s: %w", path, table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("%s: table %s: %w", path, table, err)
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: table %s: %w", path, table, err)
	}
	if len(have) == 0 {
		return fmt.Errorf("%s: table %s is missing (schema of another Wazuh version?)", path, table)
	}
	for _, c := range want {
		if !have[c] {
			return fmt.Errorf("%s: table %s has no column %q (schema of another Wazuh version?)", path, table, c)
		}
		delete(have, c)
	}
	if len(have) > 0 {
		var extra []string
		for c := range have {
			extra = append(extra, c)
		}
		sort.Strings(extra)
		return fmt.Errorf("%s: table %s has unknown columns %s (schema of another Wazuh version?)", path, table,
			strings.Join(extra, ", "))
	}
	return nil
}

var hashRE = regexp.MustCompile(`^(scrypt:\d+:\d+:\d+|pbkdf2:sha(1|224|256|384|512)(:\d+)?)\$[^$]+\$[0-9a-f]+$`)

// ValidHash reports whether s is a Werkzeug hash muster can verify.
func ValidHash(s string) bool { return hashRE.MatchString(s) }

// RBAC is what rbac.db holds.
type RBAC struct {
	Users        []core.User
	Roles        []core.Role
	Policies     []core.Policy
	Rules        []core.Rule
	UserRoles    []core.Link
	RolePolicies []core.Link
	RoleRules    []core.Link
}

func nullStr(n sql.NullString) string {
	if n.Valid {
		return n.String
	}
	return ""
}

func readRBAC(ctx context.Context, path string, p *Plan) (*RBAC, error) {
	db, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	schema := map[string][]string{
		"users":          {"id", "username", "password", "allow_run_as", "created_at"},
		"roles":          {"id", "name", "created_at"},
		"policies":       {"id", "name", "policy", "created_at"},
		"rules":          {"id", "name", "rule", "created_at"},
		"user_roles":     {"id", "user_id", "role_id", "level", "created_at"},
		"roles_policies": {"id", "role_id", "policy_id", "level", "created_at"},
		"roles_rules":    {"id", "role_id", "rule_id", "created_at"},
	}
	for _, t := range []string{"users", "roles", "policies", "rules", "user_roles", "roles_policies", "roles_rules"} {
		if err := checkColumns(ctx, db, path, t, schema[t]); err != nil {
			return nil, err
		}
	}
	r := &RBAC{}
	// users
	rows, err := db.QueryContext(ctx, "SELECT id, username, password, allow_run_as, created_at FROM users ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("%s: users: %w", path, err)
	}
	users := map[int]bool{}
	for rows.Next() {
		var u core.User
		var ca sql.NullString
		var run sql.NullBool
		if err := rows.Scan(&u.ID, &u.Username, &u.Password, &run, &ca); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: users: %w", path, err)
		}
		u.AllowRunAs, u.CreatedAt = run.Bool, nullStr(ca)
		if !ValidHash(u.Password) {
			p.skip("user", fmt.Sprintf("%s: users row id=%d (%s): malformed password hash", path, u.ID, u.Username))
			continue
		}
		users[u.ID] = true
		r.Users = append(r.Users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: users: %w", path, err)
	}
	roles := map[int]bool{}
	if err := scanRows(ctx, db, path, "SELECT id, name, created_at FROM roles ORDER BY id", func(sc func(...any) error) error {
		var x core.Role
		var ca sql.NullString
		if err := sc(&x.ID, &x.Name, &ca); err != nil {
			return err
		}
		x.CreatedAt = nullStr(ca)
		roles[x.ID] = true
		r.Roles = append(r.Roles, x)
		return nil
	}); err != nil {
		return nil, err
	}
	policies := map[int]bool{}
	if err := scanRows(ctx, db, path, "SELECT id, name, policy, created_at FROM policies ORDER BY id", func(sc func(...any) error) error {
		var x core.Policy
		var ca sql.NullString
		var body string
		if err := sc(&x.ID, &x.Name, &body, &ca); err != nil {
			return err
		}
		if !json.Valid([]byte(body)) {
			p.skip("policy", fmt.Sprintf("%s: policies row id=%d (%s): policy is not JSON", path, x.ID, x.Name))
			return nil
		}
		x.Body, x.CreatedAt = json.RawMessage(body), nullStr(ca)
		policies[x.ID] = true
		r.Policies = append(r.Policies, x)
		return nil
	}); err != nil {
		return nil, err
	}
	rules := map[int]bool{}
	if err := scanRows(ctx, db, path, "SELECT id, name, rule, created_at FROM rules ORDER BY id", func(sc func(...any) error) error {
		var x core.Rule
		var ca sql.NullString
		var body string
		if err := sc(&x.ID, &x.Name, &body, &ca); err != nil {
			return err
		}
		if !json.Valid([]byte(body)) {
			p.skip("rule", fmt.Sprintf("%s: rules row id=%d (%s): rule is not JSON", path, x.ID, x.Name))
			return nil
		}
		x.Body, x.CreatedAt = json.RawMessage(body), nullStr(ca)
		rules[x.ID] = true
		r.Rules = append(r.Rules, x)
		return nil
	}); err != nil {
		return nil, err
	}
	links := func(table, fromCol, toCol string, level bool, from, to map[int]bool, dst *[]core.Link) error {
		lv := "0"
		if level {
			lv = "COALESCE(level, 0)"
		}
		q := fmt.Sprintf("SELECT id, %s, %s, %s, created_at FROM %s ORDER BY id", fromCol, toCol, lv, table)
		return scanRows(ctx, db, path, q, func(sc func(...any) error) error {
			var l core.Link
			var f, t sql.NullInt64
			var ca sql.NullString
			if err := sc(&l.ID, &f, &t, &l.Level, &ca); err != nil {
				return err
			}
			if !f.Valid || !t.Valid || !from[int(f.Int64)] || !to[int(t.Int64)] {
				p.skip("link", fmt.Sprintf("%s: %s row id=%d (%s=%d, %s=%d): dangling link", path, table, l.ID,
					fromCol, f.Int64, toCol, t.Int64))
				return nil
			}
			l.From, l.To, l.CreatedAt = int(f.Int64), int(t.Int64), nullStr(ca)
			*dst = append(*dst, l)
			return nil
		})
	}
	if err := links("user_roles", "user_id", "role_id", true, users, roles, &r.UserRoles); err != nil {
		return nil, err
	}
	if err := links("roles_policies", "role_id", "policy_id", true, roles, policies, &r.RolePolicies); err != nil {
		return nil, err
	}
	if err := links("roles_rules", "role_id", "rule_id", false, roles, rules, &r.RoleRules); err != nil {
		return nil, err
	}
	return r, nil
}

func scanRows(ctx context.Context, db *sql.DB, path, q string, fn func(func(...any) error) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("%s: %s: %w", path, q, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

var agentCols = []string{"id", "name", "ip", "register_ip", "internal_key", "os_name", "os_version", "os_major",
	"os_minor", "os_codename", "os_build", "os_platform", "os_uname", "os_arch", "version", "config_sum",
	"merged_sum", "manager_host", "node_name", "date_add", "last_keepalive", "group", "group_hash",
	"group_sync_status", "sync_status", "connection_status", "disconnection_time", "group_config_status",
	"status_code"}

func ns(n sql.NullString) core.Null[string] {
	if n.Valid {
		return core.Some(n.String)
	}
	return core.Null[string]{}
}

// readGlobalDB reads the agent registry of a db_version 7 global.db.
func readGlobalDB(ctx context.Context, path string, p *Plan) ([]core.Agent, []string, error) {
	db, err := openSQLite(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	var ver string
	if err := db.QueryRowContext(ctx, "SELECT value FROM metadata WHERE key = 'db_version'").Scan(&ver); err != nil {
		return nil, nil, fmt.Errorf("%s: no db_version in table metadata: %w", path, err)
	}
	if ver != "7" {
		return nil, nil, fmt.Errorf("%s: schema db_version %s is not supported (Wazuh 4.8-4.14 write 7)", path, ver)
	}
	if err := checkColumns(ctx, db, path, "agent", agentCols); err != nil {
		return nil, nil, err
	}
	if err := checkColumns(ctx, db, path, "group", []string{"id", "name"}); err != nil {
		return nil, nil, err
	}
	if err := checkColumns(ctx, db, path, "belongs", []string{"id_agent", "id_group", "priority"}); err != nil {
		return nil, nil, err
	}
	var groups []string
	groupByID := map[int64]string{}
	if err := scanRows(ctx, db, path, "SELECT id, name FROM `group` ORDER BY id", func(sc func(...any) error) error {
		var id int64
		var name sql.NullString
		if err := sc(&id, &name); err != nil {
			return err
		}
		if !name.Valid || name.String == "" {
			p.skip("group", fmt.Sprintf("%s: group row id=%d: no name", path, id))
			return nil
		}
		groupByID[id] = name.String
		groups = append(groups, name.String)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	belongs := map[int][]string{}
	if err := scanRows(ctx, db, path, "SELECT id_agent, id_group FROM belongs ORDER BY id_agent, priority", func(sc func(...any) error) error {
		var a, g int64
		if err := sc(&a, &g); err != nil {
			return err
		}
		name, ok := groupByID[g]
		if !ok {
			p.skip("membership", fmt.Sprintf("%s: belongs row id_agent=%d id_group=%d: no such group", path, a, g))
			return nil
		}
		belongs[int(a)] = append(belongs[int(a)], name)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var agents []core.Agent
	q := "SELECT id, name, ip, register_ip, internal_key, os_name, os_version, os_major, os_minor, os_codename, " +
		"os_build, os_platform, os_uname, os_arch, version, config_sum, merged_sum, manager_host, node_name, date_add, " +
		"last_keepalive, `group`, connection_status, disconnection_time, group_config_status, status_code FROM agent ORDER BY id"
	err = scanRows(ctx, db, path, q, func(sc func(...any) error) error {
		var a core.Agent
		var ip, rip, key, on, ov, omj, omn, oc, ob, op, ou, oa, ver, cs, ms, mh, nn, grp sql.NullString
		var lk, dt, sc2 sql.NullInt64
		if err := sc(&a.ID, &a.Name, &ip, &rip, &key, &on, &ov, &omj, &omn, &oc, &ob, &op, &ou, &oa, &ver, &cs, &ms,
			&mh, &nn, &a.DateAdd, &lk, &grp, &a.Status, &dt, &a.GroupConfigStatus, &sc2); err != nil {
			return err
		}
		a.IP, a.RegisterIP, a.Key = ns(ip), ns(rip), key.String
		a.OS = core.AgentOS{Arch: ns(oa), Build: ns(ob), Codename: ns(oc), Major: ns(omj), Minor: ns(omn),
			Name: ns(on), Platform: ns(op), Uname: ns(ou), Version: ns(ov)}
		a.Version, a.ConfigSum, a.MergedSum, a.Manager, a.NodeName = ns(ver), ns(cs), ns(ms), ns(mh), ns(nn)
		if lk.Valid {
			a.LastKeepAlive = core.Some(lk.Int64)
		}
		a.DisconnectionTime, a.StatusCode = dt.Int64, int(sc2.Int64)
		if g, ok := belongs[a.ID]; ok {
			a.Groups = g
		} else if grp.Valid && grp.String != "" {
			a.Groups = strings.Split(grp.String, ",")
		}
		if a.ID != 0 && !validKey(a.Key) {
			return fmt.Errorf("agent row id=%d (%s): internal_key is not 64 hex characters", a.ID, a.Name)
		}
		agents = append(agents, a)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return agents, groups, nil
}

func validKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for _, c := range k {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// keyLine is one line of client.keys.
type keyLine struct {
	Line    int
	ID      int
	Name    string
	IP      string
	Key     string
	Removed bool
}

func readClientKeys(path string) ([]keyLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	var out []keyLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := map[int]int{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 4 {
			return nil, fmt.Errorf("%s line %d: want \"<id> <name> <ip> <key>\"", path, n)
		}
		id, err := strconv.Atoi(fs[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("%s line %d: bad agent id %q", path, n, fs[0])
		}
		k := keyLine{Line: n, ID: id, Name: fs[1], IP: fs[2], Key: fs[3]}
		if strings.HasPrefix(k.Name, "!") || strings.HasPrefix(k.Name, "#") {
			k.Removed = true
		}
		if !validKey(k.Key) {
			return nil, fmt.Errorf("%s line %d (agent %s): key is not 64 hex characters", path, n, fs[0])
		}
		if prev, dup := seen[id]; dup && !k.Removed {
			return nil, fmt.Errorf("%s line %d: agent id %s already on line %d", path, n, fs[0], prev)
		}
		if !k.Removed {
			seen[id] = n
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
