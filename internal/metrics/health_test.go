package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/metrics"
	"github.com/muster-project/muster/internal/sqlstore"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

// TestReadyFollowsTheStore: /readyz is 200 while the store answers and
// 503 once it is closed; /livez stays 200.
func TestReadyFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	st.SetLatencyObserver(metrics.StoreLatency(reg))
	serving, bound := 1, 1
	h := metrics.Handler(reg, &metrics.Health{Checks: []metrics.Check{metrics.StoreCheck(st),
		metrics.ListenersCheck("api", func() (int, int) { return serving, bound })}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("ready with the store open: %d %q", code, body)
	}
	serving = 0
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, "api: 0 of 1 listeners serving") {
		t.Fatalf("ready with the API listener down: %d %q", code, body)
	}
	serving = 1
	st.Close()
	code, body := get(t, h, "/readyz")
	if code != 503 || !strings.HasPrefix(body, "not ready: store: ") {
		t.Fatalf("ready with the store closed: %d %q", code, body)
	}
	if code, body := get(t, h, "/livez"); code != 200 || body != "ok\n" {
		t.Fatalf("live: %d %q", code, body)
	}
	// The pings were timed.
	code, body = get(t, h, "/metrics")
	if code != 200 || !strings.Contains(body, `muster_store_call_duration_seconds_count{op="ping"} 3`) {
		t.Fatalf("store latency after three pings: %d\n%s", code, body)
	}
}

// TestReadyBoundsAStuckCheck: a check that never returns makes the probe
// answer 503 at its timeout instead of hanging.
func TestReadyBoundsAStuckCheck(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := &metrics.Health{Timeout: 1, Checks: []metrics.Check{{Name: "stuck",
		Fn: func(context.Context) error { <-release; return nil }}}}
	failed := h.Failing(context.Background())
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "stuck: ") {
		t.Fatalf("failing = %q", failed)
	}
}

// TestDaemonsCheck: nothing running while both daemons are wanted is
// unready, naming both; nothing wanted is ready.
func TestDaemonsCheck(t *testing.T) {
	none := func() metrics.Daemons { return metrics.Daemons{} }
	err := metrics.DaemonsCheck(none, func() (int, bool) { return 2, true }).Fn(context.Background())
	if err == nil || err.Error() != "wazuh-remoted, wazuh-authd not listening" {
		t.Fatalf("err = %v", err)
	}
	if err := metrics.DaemonsCheck(none, func() (int, bool) { return 0, false }).Fn(context.Background()); err != nil {
		t.Fatalf("nothing wanted: %v", err)
	}
}
