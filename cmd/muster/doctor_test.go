package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
)

func TestDoctorCommand(t *testing.T) {
	e := apitest.Start(t)
	ca := serverCA(t, e)
	ctx := context.Background()
	env(t, e.URL, "wazuh")

	r := run(t, ctx, doctorCmd(), "--ca", ca)
	if r.code != 0 || !strings.Contains(r.stdout, "[ ok ] login") || !strings.Contains(r.stdout, "result: every step passed") {
		t.Fatalf("healthy: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Without --ca the certificate is shown with the fix; exit 1.
	r = run(t, ctx, doctorCmd(), "--data-dir", "/srv/muster")
	if r.code != 1 || !strings.Contains(r.stdout, "[FAIL] tls") || !strings.Contains(r.stdout, "--ca /srv/muster/ssl/server.crt") ||
		!strings.Contains(r.stdout, "SHA-256") || !strings.Contains(r.stderr, `the first problem is at step "tls"`) {
		t.Fatalf("untrusted: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// No password: the network steps still run, the login step says what to set.
	env(t, e.URL, "")
	r = run(t, ctx, doctorCmd(), "--ca", ca, "-o", "json")
	var rep struct {
		OK           bool   `json:"ok"`
		FirstFailure string `json:"first_failure"`
		Steps        []struct {
			Step, Status, Fix string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 || rep.FirstFailure != "login" ||
		!strings.Contains(rep.Steps[len(rep.Steps)-1].Fix, "MUSTER_PASSWORD") {
		t.Fatalf("json: code %d err %v\n%s", r.code, err, r.stdout)
	}
	// A token given to diagnose.
	env(t, e.URL, "wazuh")
	tok, err := e.Admin().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.Security.RevokeAll(ctx)
	r = run(t, ctx, doctorCmd(), "--ca", ca, "--token", tok)
	if r.code != 1 || !strings.Contains(r.stdout, "the given token was revoked") {
		t.Fatalf("token: code %d\n%s", r.code, r.stdout)
	}
	if r = run(t, ctx, doctorCmd(), "-o", "yaml"); r.code != 2 {
		t.Errorf("bad output flag: %d", r.code)
	}
	r = run(t, ctx, doctorCmd(), "--insecure", "--url", e.URL)
	if !strings.Contains(r.stderr, "WARNING: --insecure") || !strings.Contains(r.stdout, "[warn] tls") {
		t.Errorf("insecure: %s\n%s", r.stdout, r.stderr)
	}
}

// The help of every client command is complete: description, examples, flags.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string
	}{
		{"scan", []string{"Examples:", "--watch", "--listen", "--per-agent-metrics", "--max", "-o, --output", "MUSTER_PASSWORD",
			"Exit status: 0 healthy, 1", "docs/scanner.md", "--ca", "--insecure", "--timeout", "--cert", "--password-file"}},
		{"doctor", []string{"Examples:", "--token", "permissions", "Exit status", "MUSTER_URL", "--ca", "SHA-256"}},
	} {
		cmd := map[string]func() string{
			"scan":   func() string { return run(t, context.Background(), scanCmd(), "--help").stdout },
			"doctor": func() string { return run(t, context.Background(), doctorCmd(), "--help").stdout },
		}[c.name]()
		for _, w := range c.want {
			if !strings.Contains(cmd, w) {
				t.Errorf("muster %s --help lacks %q", c.name, w)
			}
		}
	}
}
