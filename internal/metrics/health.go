package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Check is one condition of readiness; Fn returns nil when it holds.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Health answers the load balancers: /livez says the process serves HTTP,
// /readyz runs every check within Timeout.
type Health struct {
	Checks  []Check
	Timeout time.Duration // per probe; 2 s when zero
}

func (h *Health) live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if failed := h.Failing(r.Context()); len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(failed, "; "))
		return
	}
	fmt.Fprintln(w, "ok")
}

// Failing runs the checks and returns one line per failed check.
func (h *Health) Failing(ctx context.Context) []string {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var failed []string
	for _, c := range h.Checks {
		if err := runCheck(ctx, c.Fn); err != nil {
			failed = append(failed, c.Name+": "+err.Error())
		}
	}
	return failed
}

// runCheck bounds a check by ctx even when it ignores ctx (a driver
// stuck in a connect): the probe answers in time either way.
func runCheck(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within the probe's timeout")
	}
}

// Pinger is a store that answers a trivial query.
type Pinger interface {
	Ping(ctx context.Context) error
}

// StoreCheck is ready when the store answers within the probe's timeout.
func StoreCheck(p Pinger) Check {
	return Check{Name: "store", Fn: p.Ping}
}

// ListenersCheck is ready when every listener bound is served: the API's,
// each counted while its Serve runs. No listener bound yet is not ready.
func ListenersCheck(name string, counts func() (serving, bound int)) Check {
	return Check{Name: name, Fn: func(context.Context) error {
		if n, want := counts(); want == 0 || n < want {
			return fmt.Errorf("%d of %d listeners serving", n, want)
		}
		return nil
	}}
}

// DaemonsCheck is ready when the daemons that want says are enabled run and
// hold their listeners: remoted one per protocol, authd its port. During
// PUT /manager/restart they are down for a moment, and so is readiness.
func DaemonsCheck(current func() Daemons, want func() (remoteListeners int, auth bool)) Check {
	return Check{Name: "daemons", Fn: func(context.Context) error {
		d := current()
		remote, auth := want()
		var down []string
		if remote > 0 && (d.Remote == nil || d.Remote.Listening() < remote) {
			down = append(down, "wazuh-remoted")
		}
		if auth && (d.Auth == nil || d.Auth.Listening() < 1) {
			down = append(down, "wazuh-authd")
		}
		if len(down) > 0 {
			return fmt.Errorf("%s not listening", strings.Join(down, ", "))
		}
		return nil
	}}
}
