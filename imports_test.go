package muster_test

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/muster-project/muster/"

// deps lists the muster packages pkg depends on.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var ds []string
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, mod) && d != mod+pkg {
			ds = append(ds, strings.TrimPrefix(d, mod))
		}
	}
	return ds
}

// TestImportRules enforces design.md's layering.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	// Leaves import nothing of muster but other leaves; pyjson imports nothing.
	leaves := map[string]bool{"internal/rbac": true, "internal/auth": true, "internal/agentql": true,
		"internal/agentproto": true, "internal/pyjson": true}
	for leaf := range leaves {
		for _, d := range deps(t, leaf) {
			if !leaves[d] || leaf == "internal/pyjson" {
				t.Errorf("%s is a leaf but imports %s", leaf, d)
			}
		}
	}
	for _, d := range deps(t, "client") {
		t.Errorf("client must import nothing of muster, imports %s", d)
	}
	out, _ := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./internal/core").Output()
	for _, d := range strings.Fields(string(out)) {
		if d == "net/http" || strings.Contains(d, "sqlite") || strings.Contains(d, "pgx") || strings.HasPrefix(d, mod+"internal/sqlstore") {
			t.Errorf("internal/core must not import HTTP or SQL drivers: imports %s", d)
		}
	}
	direct, _ := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", "./cmd/muster").Output()
	if strings.Contains(string(direct), mod+"internal/sqlstore") {
		t.Errorf("cmd/muster must not import the store directly; internal/manager wires it")
	}
}
