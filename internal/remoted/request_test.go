package remoted_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted"
)

func TestRequestChannel(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			e := start(t, nil)
			e.srv.ConfigureRequests(remoted.RequestOptions{ResponseTimeout: 300 * time.Millisecond,
				RTO: 100 * time.Millisecond, PerAgent: 2, SlotTimeout: 50 * time.Millisecond})
			k := e.reg.Register("web01", "any")
			e.run(k, func(o *agentsim.AgentOptions) { o.Protocol = proto })
			silent := e.reg.Register("mute01", "any")
			e.run(silent, func(o *agentsim.AgentOptions) {
				o.Protocol, o.Requests = proto, agentsim.RequestBehaviour{Silent: true}
			})
			eventually(t, "active", func() bool {
				return e.status(k.ID) == core.AgentActive && e.status(silent.ID) == core.AgentActive
			})
			ctx := context.Background()

			got, err := e.srv.AgentRequest(ctx, k.ID, "agent", "getconfig buffer")
			if err != nil || got != `ok {"buffer":{"disabled":"no","queue_size":5000,"events_per_second":500}}` {
				t.Fatalf("answer %q %v", got, err)
			}
			if got, _ := e.srv.AgentRequest(ctx, k.ID, "agent", "getconfig nothing"); got != "err Could not get requested section" {
				t.Fatalf("unknown section: %q", got)
			}
			if got, _ := e.srv.AgentRequest(ctx, k.ID, "analysis", "getconfig global"); got != "err No such file or directory" {
				t.Fatalf("unknown component: %q", got)
			}
			// Concurrent requests each get their own answer.
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, _ := e.srv.AgentRequest(ctx, k.ID, "agent", "getstate")
					if !strings.HasPrefix(r, `{"error":0,"data":{"status":"connected"`) && r != remoted.ReplyInternalError {
						errs <- r
					}
				}()
			}
			wg.Wait()
			close(errs)
			for r := range errs {
				t.Errorf("concurrent answer %q", r)
			}

			if got, _ := e.srv.AgentRequest(ctx, silent.ID, "agent", "getconfig client"); got != remoted.ReplyTimeout {
				t.Fatalf("silent agent: %q", got)
			}
			// The API's deadline ends the wait with the context's error.
			short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			if _, err := e.srv.AgentRequest(short, silent.ID, "agent", "getconfig client"); err != context.DeadlineExceeded {
				t.Fatalf("deadline: %v", err)
			}
			if got, _ := e.srv.AgentRequest(ctx, 999, "agent", "getconfig client"); got != remoted.ReplySendError {
				t.Fatalf("unknown agent: %q", got)
			}
			if e.srv.UnmatchedReplies() != 0 {
				t.Fatalf("unmatched: %d", e.srv.UnmatchedReplies())
			}
			stats := e.srv.AgentChannelStats([]int{k.ID, 999})
			if len(stats) != 1 || stats[0].SentRequest < 11 || stats[0].Request < 11 || stats[0].Startup != 1 {
				t.Fatalf("per-agent counters: %+v", stats)
			}
		})
	}
}

func TestRequestToSilentAgentOverUDPAttempts(t *testing.T) {
	e := start(t, nil)
	e.srv.ConfigureRequests(remoted.RequestOptions{RTO: 20 * time.Millisecond, MaxAttempts: 2})
	k := e.reg.Register("gone01", "any")
	_, stop := e.run(k, func(o *agentsim.AgentOptions) { o.Protocol = "udp" })
	eventually(t, "active", func() bool { return e.status(k.ID) == core.AgentActive })
	stop() // the manager keeps its UDP path but nobody answers there
	got, err := e.srv.AgentRequest(context.Background(), k.ID, "agent", "getconfig client")
	if err != nil || got != remoted.ReplyAttemptsError {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestRequestUnmatchedAnswersDropped(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("echo01", "any")
	e.run(k, func(o *agentsim.AgentOptions) { o.Requests = agentsim.RequestBehaviour{Twice: true} })
	eventually(t, "active", func() bool { return e.status(k.ID) == core.AgentActive })
	got, err := e.srv.AgentRequest(context.Background(), k.ID, "agent", "getconfig buffer")
	if err != nil || !strings.HasPrefix(got, "ok ") {
		t.Fatalf("answer %q %v", got, err)
	}
	// The second copy finds its request gone (or already answered).
	eventually(t, "the duplicate counted", func() bool { return e.srv.UnmatchedReplies() >= 1 })
	if n := e.srv.UnmatchedReplies(); n != 1 {
		t.Fatalf("unmatched: %d", n)
	}
}
