package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/storetest"
)

func runImportCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := importCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestImportCommand(t *testing.T) {
	src, _ := filepath.Abs("../../../shared/fixtures/wazuh-4.14.7")
	if _, err := os.Stat(src); err != nil {
		t.Skip("fixture not available")
	}
	target := filepath.Join(t.TempDir(), "data")
	out, err := runImportCmd(t, "--from", src, "--data-dir", target, "--dry-run")
	if err != nil || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("dry run wrote")
	}
	out, err = runImportCmd(t, "--from", src, "--data-dir", target)
	if err != nil || !strings.Contains(out, "users              6") || !strings.Contains(out, "muster server --config") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if _, err := runImportCmd(t, "--from", src, "--data-dir", target); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second import: %v", err)
	}
	if _, err := runImportCmd(t, "--rbac-db", filepath.Join(src, "api/configuration/security/rbac.db"),
		"--data-dir", target, "--force"); err != nil {
		t.Fatal(err)
	}
}

// TestImportCommandConfig: --config takes the servers' database: a
// PostgreSQL one is filled, an SQLite file elsewhere than the data
// directory is refused with what to do.
func TestImportCommandConfig(t *testing.T) {
	src, _ := filepath.Abs("../../../shared/fixtures/wazuh-4.14.7")
	if _, err := os.Stat(src); err != nil {
		t.Skip("fixture not available")
	}
	dir := t.TempDir()
	lite := filepath.Join(dir, "lite.yaml")
	os.WriteFile(lite, []byte("database:\n  driver: sqlite\n  dsn: /elsewhere/muster.db\n"), 0o600)
	if _, err := runImportCmd(t, "--from", src, "--data-dir", filepath.Join(dir, "d1"), "--config", lite); err == nil ||
		!strings.Contains(err.Error(), "leave dsn empty") {
		t.Fatalf("an SQLite dsn: %v", err)
	}
	dsn := storetest.PostgresDSN(t)
	pg := filepath.Join(dir, "pg.yaml")
	os.WriteFile(pg, []byte("database:\n  driver: postgres\n  dsn: \""+dsn+"\"\n"), 0o600)
	out, err := runImportCmd(t, "--from", src, "--data-dir", filepath.Join(dir, "d2"), "--config", pg)
	if err != nil || !strings.Contains(out, "PostgreSQL database of "+pg) || !strings.Contains(out, "agents             41") {
		t.Fatalf("import into PostgreSQL: %v\n%s", err, out)
	}
}
