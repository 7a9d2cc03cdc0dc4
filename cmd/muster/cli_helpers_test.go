package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what a command run left behind.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// run executes cmd with args and returns its output and exit status as main would.
func run(t *testing.T, ctx context.Context, cmd *cobra.Command, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(""))
	cmd.SilenceErrors, cmd.SilenceUsage = true, true // as under the root command
	start := time.Now()
	err := cmd.ExecuteContext(ctx)
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if err != nil {
		r.code = exitCode(err)
		r.stderr += "muster: " + err.Error() + "\n"
	}
	return r
}

// serverCA writes the test server's certificate for --ca.
func serverCA(t *testing.T, e *apitest.Env) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.crt")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Server.Certificate().Raw})
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// seedAgents stores n agents: every fifth disconnected for a day, the others active.
func seedAgents(t *testing.T, e *apitest.Env, n int) {
	t.Helper()
	now := e.Clock.Now().Unix()
	var agents []core.Agent
	for i := 1; i <= n; i++ {
		a := core.Agent{ID: i, Name: fmt.Sprintf("cli-%04d", i), RegisterIP: core.Some("any"),
			IP: core.Some(fmt.Sprintf("10.2.0.%d", i)), Key: strings.Repeat("ab", 32), DateAdd: now - 86400*30,
			Version: core.Some("Wazuh v4.14.7"), Groups: []string{"default"}, GroupConfigStatus: core.ConfigSynced,
			Status: core.AgentActive, LastKeepAlive: core.Some(now - 10), NodeName: core.Some("node01")}
		if i%5 == 0 {
			a.Status, a.StatusCode, a.LastKeepAlive = core.AgentDisconnected, core.StatusCodeNoKeepalive, core.Some(now-86400)
			a.DisconnectionTime = now - 86400 + 900
		}
		agents = append(agents, a)
	}
	if err := e.Store.PutAgents(context.Background(), agents); err != nil {
		t.Fatal(err)
	}
}

// env sets the connection environment for a test.
func env(t *testing.T, url, password string) {
	t.Setenv("MUSTER_URL", url)
	t.Setenv("MUSTER_USER", "")
	t.Setenv("MUSTER_PASSWORD", password)
	t.Setenv("MUSTER_TOKEN", "")
}
