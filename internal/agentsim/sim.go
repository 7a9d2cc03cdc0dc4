package agentsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// Config is one simulation: how many agents, where the manager is and how
// they behave.
type Config struct {
	Manager    string // manager host name or address
	EnrollPort int    // 1515
	Port       int    // 1514
	Protocol   string // tcp or udp
	Password   string // enrollment password, if the manager wants one
	NamePrefix string // agents are <prefix>00001, <prefix>00002, ...
	Groups     []string
	Agents     int
	NotifyTime time.Duration
	Version    string // "v4.14.7"
	Method     agentproto.Method
	// KeysFile holds client.keys lines to reuse; agents beyond its entries
	// are enrolled and appended to it.
	KeysFile string
	// SourceIPs are local addresses the agents bind in turn (one address
	// gives at most ~28,000 connections to one port).
	SourceIPs         []string
	EnrollConcurrency int
	// EnrollOnly stops after enrolling (the enrollment benchmark).
	EnrollOnly bool
	// Ramp spreads the agents' first connections over this long.
	Ramp        time.Duration
	ReportEvery time.Duration
	Out         io.Writer // progress lines (stderr)
	TLS         *tls.Config
	// HandshakeTimeout bounds each agent's wait for its ACK.
	HandshakeTimeout time.Duration

	// Fleet, when set, replaces Agents, NamePrefix and the shared settings
	// with its per-agent ones (fleet_run.go); what it leaves out comes from
	// the fields above.
	Fleet *Fleet
	// Retries, RetryInterval and TimeReconnect are the agents' <server>
	// settings with a fleet (5, 10 s and 60 s by default).
	Retries       int
	RetryInterval time.Duration
	TimeReconnect time.Duration
	// Sleep times the fleet's behaviours (tests pass a clock's).
	Sleep Sleeper
}

// Run enrolls and runs the agents until ctx ends, then stops them cleanly
// (each sends its shutdown) and prints a last report.
func Run(ctx context.Context, cfg Config) (*Stats, error) {
	if cfg.Fleet != nil {
		return runFleet(ctx, cfg)
	}
	if cfg.Agents <= 0 {
		return nil, errors.New("agentsim: --agents must be positive")
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 10 * time.Second
	}
	if cfg.EnrollConcurrency <= 0 {
		cfg.EnrollConcurrency = 32
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	stats := NewStats()
	locals, err := localAddrs(cfg.SourceIPs)
	if err != nil {
		return stats, err
	}
	entries, err := ReadKeysFile(cfg.KeysFile)
	if cfg.KeysFile == "" {
		entries, err = nil, nil
	}
	if err != nil {
		return stats, err
	}
	if len(entries) > cfg.Agents {
		entries = entries[:cfg.Agents]
	}
	if len(entries) > 0 {
		fmt.Fprintf(cfg.Out, "agent-sim: reusing %d keys from %s\n", len(entries), cfg.KeysFile)
	}
	if missing := cfg.Agents - len(entries); missing > 0 {
		added := enrollAll(ctx, cfg, stats, locals, len(entries), missing)
		if cfg.KeysFile != "" && len(added) > 0 {
			if err := AppendKeysFile(cfg.KeysFile, added); err != nil {
				return stats, err
			}
		}
		entries = append(entries, added...)
	}
	if cfg.EnrollOnly || ctx.Err() != nil {
		return stats, nil
	}
	runAgents(ctx, cfg, stats, locals, entries)
	report(cfg.Out, stats, len(entries), "stopped")
	return stats, nil
}

// enrollAll enrolls count agents numbered from first, concurrently.
func enrollAll(ctx context.Context, cfg Config, stats *Stats, locals []net.Addr, first, count int) []agentproto.KeyEntry {
	addr := net.JoinHostPort(cfg.Manager, strconv.Itoa(cfg.EnrollPort))
	out := make([]agentproto.KeyEntry, count)
	ok := make([]bool, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.EnrollConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				req := agentproto.EnrollRequest{Password: cfg.Password, Name: agentName(cfg.NamePrefix, first+i),
					Version: cfg.Version, Groups: cfg.Groups}
				o := EnrollOptions{Addr: addr, TLS: cfg.TLS, LocalAddr: pick(locals, i)}
				e, err := Enroll(ctx, o, req)
				if err != nil {
					stats.EnrollFails.Add(1)
					if stats.EnrollFails.Load() <= 5 {
						fmt.Fprintf(cfg.Out, "agent-sim: enrolling %s: %v\n", req.Name, err)
					}
					continue
				}
				out[i], ok[i] = e, true
				stats.Enrolled.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var done []agentproto.KeyEntry
	for i := range out {
		if ok[i] {
			done = append(done, out[i])
		}
	}
	fmt.Fprintf(cfg.Out, "agent-sim: enrolled %d agents in %.2fs (%.0f/s), %d failed\n", len(done), el.Seconds(),
		float64(len(done))/el.Seconds(), stats.EnrollFails.Load())
	return done
}

// runAgents runs every agent until ctx ends, reporting periodically.
func runAgents(ctx context.Context, cfg Config, stats *Stats, locals []net.Addr, entries []agentproto.KeyEntry) {
	addr := net.JoinHostPort(cfg.Manager, strconv.Itoa(cfg.Port))
	var wg sync.WaitGroup
	for i, e := range entries {
		a, err := NewAgent(e, AgentOptions{Addr: addr, Protocol: cfg.Protocol, Method: cfg.Method,
			Version: cfg.Version, NotifyTime: cfg.NotifyTime, LocalAddr: pick(locals, i), Stats: stats,
			HandshakeTimeout: cfg.HandshakeTimeout})
		if err != nil {
			fmt.Fprintf(cfg.Out, "agent-sim: agent %s: %v\n", e.ID, err)
			continue
		}
		var delay time.Duration
		if cfg.Ramp > 0 {
			delay = time.Duration(float64(cfg.Ramp) * float64(i) / float64(len(entries)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if delay > 0 {
				t := time.NewTimer(delay + rand.N(time.Millisecond))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			a.Run(ctx)
		}()
	}
	tick := time.NewTicker(cfg.ReportEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
			report(cfg.Out, stats, len(entries), "running")
		}
	}
}

// report prints one progress line.
func report(w io.Writer, s *Stats, total int, state string) {
	p50, p99, mx, n := s.Latency()
	last := ""
	if e := s.LastError(); e != "" {
		last = fmt.Sprintf(" last_error=%q", e)
	}
	fmt.Fprintf(w, "agent-sim: %s connected=%d/%d keepalives=%d acks=%d ack_p50=%s ack_p99=%s ack_max=%s (window %d) "+
		"files=%d commands=%d reconnects=%d errors=%d%s\n", state, s.Connected.Load(), total, s.Keepalives.Load(),
		s.Acks.Load(), p50.Round(time.Microsecond), p99.Round(time.Microsecond), mx.Round(time.Microsecond), n,
		s.Files.Load(), s.Commands.Load(), s.Reconnects.Load(), s.Errors.Load(), last)
}

// localAddrs parses the source addresses to bind.
func localAddrs(ips []string) ([]net.Addr, error) {
	var out []net.Addr
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("agentsim: %q is not an IP address", s)
		}
		out = append(out, &net.TCPAddr{IP: ip})
	}
	return out, nil
}

// pick returns the i-th source address in turn, or nil.
func pick(locals []net.Addr, i int) net.Addr {
	if len(locals) == 0 {
		return nil
	}
	return locals[i%len(locals)]
}
