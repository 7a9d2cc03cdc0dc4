package importer

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/config"
)

// copyFixture copies the fixture's tree to a writable folder.
func copyFixture(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "ossec")
	if err := copyTree(fixtureDir(t), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// noDataDir checks that a failed import left nothing behind.
func noDataDir(t *testing.T, target string) {
	t.Helper()
	if _, err := os.Stat(target); err == nil {
		t.Errorf("%s exists after a failed import", target)
	}
	left, _ := filepath.Glob(target + ".tmp-*")
	if len(left) > 0 {
		t.Errorf("staged directories left: %v", left)
	}
}

const (
	globalDB = "queue/db/global.db"
	rbacDB   = "api/configuration/security/rbac.db"
	keysFile = "etc/client.keys"
)

func TestImportBadInput(t *testing.T) {
	key011 := ""
	{
		b, _ := os.ReadFile(filepath.Join(fixtureDir(t), keysFile))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "011 ") {
				key011 = strings.Fields(l)[3]
			}
		}
	}
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string // all must appear in the error
	}{
		{"truncated global.db", func(t *testing.T, dir string) {
			p := filepath.Join(dir, globalDB)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/3], 0o600)
		}, []string{"global.db"}},
		{"garbage rbac.db", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, rbacDB), []byte("not a database at all, just text"), 0o600)
		}, []string{"rbac.db", "not an SQLite database"}},
		{"corrupted pages", func(t *testing.T, dir string) {
			p := filepath.Join(dir, globalDB)
			b, _ := os.ReadFile(p)
			for i := 4096; i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(p, b, 0o600)
		}, []string{"global.db"}},
		{"other schema version", func(t *testing.T, dir string) {
			execSQL(t, filepath.Join(dir, globalDB), "UPDATE metadata SET value = '6' WHERE key = 'db_version'")
		}, []string{"global.db", "db_version 6"}},
		{"unknown agent column", func(t *testing.T, dir string) {
			execSQL(t, filepath.Join(dir, globalDB), "ALTER TABLE agent ADD COLUMN shiny TEXT")
		}, []string{"global.db", "agent", "shiny"}},
		{"unknown users column", func(t *testing.T, dir string) {
			execSQL(t, filepath.Join(dir, rbacDB), "ALTER TABLE users ADD COLUMN mfa TEXT")
		}, []string{"rbac.db", "users", "mfa"}},
		{"key differs", func(t *testing.T, dir string) {
			replaceInFile(t, filepath.Join(dir, keysFile), key011, strings.Repeat("ab", 32))
		}, []string{"client.keys line 11", "agent 011", "key differs"}},
		{"key not 64 hex", func(t *testing.T, dir string) {
			replaceInFile(t, filepath.Join(dir, keysFile), key011, key011[:60]+"zzzz")
		}, []string{"client.keys line 11", "64 hex"}},
		{"short key", func(t *testing.T, dir string) {
			replaceInFile(t, filepath.Join(dir, keysFile), key011, key011[:20])
		}, []string{"client.keys line 11", "64 hex"}},
		{"id only in client.keys", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, keysFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("123 ghost any " + strings.Repeat("0f", 32) + "\n")
			f.Close()
		}, []string{"client.keys line 42", "agent 123", "not in global.db"}},
		{"id only in global.db", func(t *testing.T, dir string) {
			replaceInFile(t, filepath.Join(dir, keysFile), "011 app-01 any "+key011+"\n", "")
		}, []string{"row id=11", "app-01", "client.keys"}},
		{"name differs", func(t *testing.T, dir string) {
			replaceInFile(t, filepath.Join(dir, keysFile), "011 app-01 ", "011 app-99 ")
		}, []string{"client.keys line 11", "app-99", "app-01"}},
		{"bad key in global.db", func(t *testing.T, dir string) {
			execSQL(t, filepath.Join(dir, globalDB), "UPDATE agent SET internal_key = 'short' WHERE id = 5")
		}, []string{"global.db", "row id=5", "64 hex"}},
		{"unknown api.yaml key", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, "api/configuration/api.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("turbo: yes\n")
			f.Close()
		}, []string{"api.yaml", "turbo"}},
		{"bad security.yaml", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "api/configuration/security/security.yaml"), []byte("rbac_mode: grey\n"), 0o600)
		}, []string{"security.yaml", "rbac_mode"}},
		{"bad signing key", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "api/configuration/security/private_key.pem"), []byte("junk"), 0o600)
		}, []string{"private_key.pem"}},
		{"bad ossec.conf", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "etc/ossec.conf"),
				[]byte("<ossec_config><global><agents_disconnection_time>soon</agents_disconnection_time></global></ossec_config>"), 0o600)
		}, []string{"ossec.conf", "agents_disconnection_time"}},
		{"unreadable client.keys", func(t *testing.T, dir string) {
			p := filepath.Join(dir, keysFile)
			os.Remove(p)
			os.Mkdir(p, 0o700)
		}, []string{"client.keys"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t)
			c.break_(t, dir)
			target := filepath.Join(t.TempDir(), "data")
			_, err := Run(context.Background(), Options{From: dir, DataDir: target})
			if err == nil {
				t.Fatal("import succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			noDataDir(t, target)
		})
	}
}

func TestImportSkipsItems(t *testing.T) {
	dir := copyFixture(t)
	execSQL(t, filepath.Join(dir, rbacDB),
		"PRAGMA foreign_keys = OFF",
		"INSERT INTO user_roles VALUES (50, 101, 999, 1, '2026-01-01 00:00:00')",
		"INSERT INTO users VALUES (103, 'mallory', 'md5$abc$def', 0, '2026-01-01 00:00:00')",
		"INSERT INTO user_roles VALUES (51, 103, 1, 0, '2026-01-01 00:00:00')")
	target := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	p, err := Run(context.Background(), Options{From: dir, DataDir: target, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"user_roles row id=50", "role_id=999", "dangling link",
		"users row id=103 (mallory): malformed password hash", "user_roles row id=51"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
	if len(p.RBAC.Users) != 6 || len(p.RBAC.UserRoles) != 8 {
		t.Errorf("users %d links %d", len(p.RBAC.Users), len(p.RBAC.UserRoles))
	}
}

func TestImportTargetAndDryRun(t *testing.T) {
	src := fixtureDir(t)
	target := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	if _, err := Run(context.Background(), Options{From: src, DataDir: target, DryRun: true, Out: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run") || !strings.Contains(out.String(), "agents             41") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("dry run wrote the target")
	}
	os.MkdirAll(target, 0o700)
	os.WriteFile(filepath.Join(target, "keep"), []byte("x"), 0o600)
	_, err := Run(context.Background(), Options{From: src, DataDir: target})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty target: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "keep")); err != nil {
		t.Fatal("refused import touched the target")
	}
	if _, err := Run(context.Background(), Options{From: src, DataDir: target, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "keep")); err == nil {
		t.Error("--force kept the old content")
	}
	if _, err := os.Stat(filepath.Join(target, "muster.db")); err != nil {
		t.Error(err)
	}
	left, _ := filepath.Glob(target + ".*")
	if len(left) > 0 {
		t.Errorf("left over: %v", left)
	}
	// An empty existing target is fine without --force.
	empty := filepath.Join(t.TempDir(), "empty")
	os.MkdirAll(empty, 0o700)
	if _, err := Run(context.Background(), Options{From: src, DataDir: empty}); err != nil {
		t.Fatal(err)
	}
}

func TestImportPartialSources(t *testing.T) {
	src := fixtureDir(t)
	target := filepath.Join(t.TempDir(), "data")
	p, err := Run(context.Background(), Options{ClientKeys: filepath.Join(src, keysFile), DataDir: target})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Agents) != 40 || p.RBAC != nil {
		t.Errorf("agents %d", len(p.Agents))
	}
	target2 := filepath.Join(t.TempDir(), "data")
	p, err = Run(context.Background(), Options{RBACDB: filepath.Join(src, rbacDB), DataDir: target2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Agents) != 0 || len(p.RBAC.Users) != 6 || p.Security == nil || p.Security.AuthTokenExpTimeout != 1800 {
		t.Errorf("partial rbac: %+v", p)
	}
}

func TestOssecConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ossec.conf")
	os.WriteFile(path, []byte(`<!-- comment -->
<ossec_config>
  <global>
    <jsonout_output>yes</jsonout_output>
    <agents_disconnection_time>15m</agents_disconnection_time>
  </global>
  <remote>
    <connection>syslog</connection>
    <port>514</port>
  </remote>
  <remote>
    <connection>secure</connection>
    <port>1600</port>
    <protocol>TCP,UDP</protocol>
  </remote>
</ossec_config>
<ossec_config>
  <auth>
    <disabled>no</disabled>
    <port>1616</port>
  </auth>
  <cluster><node_name>master-a</node_name></cluster>
</ossec_config>
`), 0o600)
	s, err := readOssecConf(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ossecSettings{DisconnectionTime: 900, RemotePort: 1600, RemoteProtocol: "tcp,udp", AuthPort: 1616, NodeName: "master-a"}
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
	p := &Plan{Manager: s}
	cfgPath := filepath.Join(t.TempDir(), ConfigName)
	os.WriteFile(cfgPath, p.configFile("", config.Database{}), 0o600)
	if _, err := loadConfig(cfgPath); err != nil {
		t.Fatalf("%v\n%s", err, p.configFile("", config.Database{}))
	}
}

func TestImportEtcFiles(t *testing.T) {
	dir := copyFixture(t)
	os.WriteFile(filepath.Join(dir, "etc/sslmanager.cert"), []byte("CERT"), 0o600)
	os.WriteFile(filepath.Join(dir, "etc/sslmanager.key"), []byte("KEY"), 0o600)
	os.WriteFile(filepath.Join(dir, "etc/authd.pass"), []byte("secret"), 0o600)
	os.WriteFile(filepath.Join(dir, "etc/ossec.conf"), []byte(`<ossec_config><global>
<agents_disconnection_time>20m</agents_disconnection_time></global>
<remote><connection>secure</connection><port>1514</port><protocol>tcp</protocol></remote></ossec_config>`), 0o600)
	target := filepath.Join(t.TempDir(), "data")
	if _, err := Run(context.Background(), Options{From: dir, DataDir: target}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"sslmanager.cert", "sslmanager.key", "authd.pass"} {
		if _, err := os.Stat(filepath.Join(target, "etc", n)); err != nil {
			t.Error(err)
		}
	}
	cfg, err := loadConfig(filepath.Join(target, ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Manager.AgentsDisconnectionTime != 1200 || cfg.Remote.Port != 1514 || cfg.API.Access.BlockTime != 600 {
		t.Errorf("config %+v %+v", cfg.Manager, cfg.Remote)
	}
}
