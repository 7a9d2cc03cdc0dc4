package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLimiter(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	var l Limiter
	for range 3 * PerSecond {
		l.Warn(log, "refused")
	}
	lines := strings.Count(out.String(), "refused")
	// All in one second, or across a second boundary: at most two budgets.
	if lines < PerSecond || lines > 2*PerSecond {
		t.Fatalf("%d lines logged of %d warnings", lines, 3*PerSecond)
	}
}
