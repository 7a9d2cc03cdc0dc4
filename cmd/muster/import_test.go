package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
