package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// resolveWith registers the connection flags on a bare command, parses args
// with stdin as its input and resolves them.
func resolveWith(t *testing.T, stdin string, need bool, args ...string) (*connFlags, string, error) {
	t.Helper()
	var c connFlags
	cmd := &cobra.Command{Use: "x"}
	c.register(cmd.Flags())
	var errb syncBuffer
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	err := c.resolve(cmd, need)
	return &c, errb.String(), err
}

func TestConnectionFlags(t *testing.T) {
	env(t, "https://from-env:55000", "env-secret")
	t.Setenv("MUSTER_USER", "env-user")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("file-secret\r\nsecond line\n"), 0o600)

	c, _, err := resolveWith(t, "", true)
	if err != nil || c.url != "https://from-env:55000" || c.user != "env-user" || c.password != "env-secret" || c.timeout != 30*time.Second {
		t.Fatalf("environment: %+v %v", c, err)
	}
	c, _, _ = resolveWith(t, "", true, "--url", "https://flag:1", "--user", "flag-user", "--password-file", pwFile)
	if c.url != "https://flag:1" || c.user != "flag-user" || c.password != "file-secret" {
		t.Fatalf("flags win: %+v", c)
	}
	c, _, _ = resolveWith(t, "stdin-secret\n", true, "--password-file", "-")
	if c.password != "stdin-secret" {
		t.Fatalf("stdin: %q", c.password)
	}
	c, stderr, _ := resolveWith(t, "", true, "--password", "argv-secret", "--insecure")
	if c.password != "argv-secret" || !strings.Contains(stderr, "process list") || !strings.Contains(stderr, "WARNING: --insecure") {
		t.Fatalf("--password / --insecure: %q %q", c.password, stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cert", "c.pem"}, "--cert and --key go together"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"--password-file", filepath.Join(t.TempDir(), "missing")}, "--password-file"},
	} {
		if _, _, err := resolveWith(t, "", true, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, _, err := resolveWith(t, "", true, "--password-file", empty); err == nil || !strings.Contains(err.Error(), "first line is empty") {
		t.Errorf("empty file: %v", err)
	}
	t.Setenv("MUSTER_PASSWORD", "")
	if _, _, err := resolveWith(t, "", true); err == nil || !strings.Contains(err.Error(), "set MUSTER_PASSWORD") {
		t.Errorf("no password: %v", err)
	}
	if _, _, err := resolveWith(t, "", false); err != nil {
		t.Errorf("doctor runs without a password: %v", err)
	}
}
