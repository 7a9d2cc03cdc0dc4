package agentsim

import (
	"context"
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

// fleetMember is a fleet agent with everything inherited filled in.
type fleetMember struct {
	FleetAgent
	entry    agentproto.KeyEntry
	hasKey   bool
	managers []string // host:port
	local    net.Addr
}

// runFleet is Run for a fleet: resolve every agent's settings and key,
// enroll those without one, then play each agent's behaviour.
func runFleet(ctx context.Context, cfg Config) (*Stats, error) {
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
	members, keysPath, err := resolveFleet(cfg)
	if err != nil {
		return stats, err
	}
	var missing []int
	for i, m := range members {
		if !m.hasKey {
			missing = append(missing, i)
		}
	}
	if n := len(members) - len(missing); n > 0 {
		fmt.Fprintf(cfg.Out, "agent-sim: %d of %d fleet agents have keys\n", n, len(members))
	}
	if len(missing) > 0 {
		added := enrollFleet(ctx, cfg, stats, members, missing)
		if keysPath != "" && len(added) > 0 {
			if err := AppendKeysFile(keysPath, added); err != nil {
				return stats, err
			}
		}
	}
	if cfg.EnrollOnly || ctx.Err() != nil {
		return stats, nil
	}
	var wg sync.WaitGroup
	running := 0
	for i, m := range members {
		if !m.hasKey {
			continue
		}
		o := AgentOptions{Managers: m.managers, Protocol: cfg.Protocol, Method: cfg.Method, Version: m.Version,
			NotifyTime: m.Keepalive, LocalAddr: m.local, Stats: stats, HandshakeTimeout: cfg.HandshakeTimeout,
			Retries: cfg.Retries, RetryInterval: cfg.RetryInterval, TimeReconnect: cfg.TimeReconnect,
			Uname: m.OS.Uname(m.Name), Labels: labelLines(m.Labels)}
		w := WireFor(m.Version)
		o.Wire = &w
		a, err := NewAgent(m.entry, o)
		if err != nil {
			fmt.Fprintf(cfg.Out, "agent-sim: agent %s: %v\n", m.Name, err)
			continue
		}
		running++
		var delay time.Duration
		if cfg.Ramp > 0 {
			delay = time.Duration(float64(cfg.Ramp) * float64(i) / float64(len(members)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if delay > 0 && realSleep(ctx, delay+rand.N(time.Millisecond)) != nil {
				return
			}
			Play(ctx, a, m.Behaviour, cfg.Sleep)
		}()
	}
	tick := time.NewTicker(cfg.ReportEvery)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			wg.Wait()
			done = true
		case <-tick.C:
			report(cfg.Out, stats, running, "running")
		}
	}
	report(cfg.Out, stats, running, "stopped")
	return stats, nil
}

// resolveFleet fills in what the fleet inherits from cfg and finds each
// agent's key: its own, or the keys file's entry with its name (and its id
// when the fleet gives one). Keys are never matched by position.
func resolveFleet(cfg Config) ([]fleetMember, string, error) {
	f := cfg.Fleet
	file := f.File
	keysPath := f.Keys
	if cfg.KeysFile != "" {
		if keysPath != "" && keysPath != cfg.KeysFile {
			return nil, "", fmt.Errorf("agentsim: the fleet names keys %s and --keys %s: give one", keysPath, cfg.KeysFile)
		}
		keysPath = cfg.KeysFile
	}
	byName, byID := map[string]agentproto.KeyEntry{}, map[string]agentproto.KeyEntry{}
	twice := map[string]bool{}
	if keysPath != "" {
		entries, err := ReadKeysFile(keysPath)
		if err != nil {
			return nil, "", fmt.Errorf("agentsim: %s: %w", keysPath, err)
		}
		for _, e := range entries {
			if _, dup := byName[e.Name]; dup {
				twice[e.Name] = true
			}
			byName[e.Name] = e
			byID[normID(e.ID)] = e
		}
	}
	locals, err := localAddrs(cfg.SourceIPs)
	if err != nil {
		return nil, "", err
	}
	out := make([]fleetMember, len(f.Agents))
	for i, a := range f.Agents {
		bad := func(format string, args ...any) error {
			return &FleetError{file, a.Line, fmt.Sprintf("agent %s: ", a.Name) + fmt.Sprintf(format, args...)}
		}
		m := fleetMember{FleetAgent: a}
		if m.Version == "" {
			m.Version = cfg.Version
		}
		if m.Version == "" {
			m.Version = "v4.14.7"
		}
		if m.OS == nil {
			m.OS = &defaultOS
		}
		if m.Groups == nil {
			m.Groups = cfg.Groups
		}
		if m.Keepalive <= 0 {
			m.Keepalive = cfg.NotifyTime
		}
		if m.Keepalive <= 0 {
			m.Keepalive = 20 * time.Second
		}
		port := strconv.Itoa(cfg.Port)
		if cfg.Port == 0 {
			port = "1514"
		}
		for _, s := range m.Managers {
			if _, _, err := net.SplitHostPort(s); err != nil {
				s = net.JoinHostPort(s, port)
			}
			m.managers = append(m.managers, s)
		}
		if len(m.managers) == 0 {
			m.managers = []string{net.JoinHostPort(cfg.Manager, port)}
		}
		if m.Source != "" {
			m.local = &net.TCPAddr{IP: net.ParseIP(m.Source)}
		} else {
			m.local = pick(locals, i)
		}
		if twice[a.Name] {
			return nil, "", bad("%s has this name twice", keysPath)
		}
		fileByName, nameKnown := byName[a.Name]
		fileByID, idKnown := byID[a.ID]
		switch {
		case a.Key != "":
			m.entry = agentproto.KeyEntry{ID: a.ID, Name: a.Name, IP: agentproto.AnyIP, Key: a.Key}
			if idKnown && fileByID.Name != a.Name {
				return nil, "", bad("%s has id %s as %q", keysPath, a.ID, fileByID.Name)
			}
			if idKnown && fileByID.Key != a.Key {
				return nil, "", bad("%s has id %s with another key", keysPath, a.ID)
			}
			if idKnown {
				m.entry.IP = fileByID.IP
			}
			if nameKnown && normID(fileByName.ID) != a.ID {
				return nil, "", bad("%s has this name with id %s, not %s", keysPath, fileByName.ID, a.ID)
			}
			m.hasKey = true
		case nameKnown:
			if a.ID != "" && normID(fileByName.ID) != a.ID {
				return nil, "", bad("%s has this name with id %s, not %s", keysPath, fileByName.ID, a.ID)
			}
			m.entry, m.hasKey = fileByName, true
		case idKnown:
			return nil, "", bad("%s has id %s for agent %q", keysPath, a.ID, fileByID.Name)
		case a.ID != "":
			return nil, "", bad("id %s has no key: give key, or a keys file holding it", a.ID)
		}
		out[i] = m
	}
	return out, keysPath, nil
}

// normID writes an id the way the fleet does (%03d).
func normID(id string) string {
	if v, err := strconv.Atoi(id); err == nil {
		return agentproto.FormatAgentID(v)
	}
	return id
}

// enrollFleet enrolls the agents without a key, each with its own name,
// groups and version, on the first manager of its list that answers; the
// new keys are set on members and returned.
func enrollFleet(ctx context.Context, cfg Config, stats *Stats, members []fleetMember, todo []int) []agentproto.KeyEntry {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		added []agentproto.KeyEntry
	)
	enrollPort := strconv.Itoa(cfg.EnrollPort)
	if cfg.EnrollPort == 0 {
		enrollPort = "1515"
	}
	start := time.Now()
	for w := 0; w < min(cfg.EnrollConcurrency, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(todo) {
					return
				}
				m := &members[todo[i]]
				req := agentproto.EnrollRequest{Password: cfg.Password, Name: m.Name, Groups: m.Groups}
				if WireFor(m.Version).EnrollVersion {
					req.Version = m.Version
				}
				var err error
				for _, s := range m.managers {
					host, _, _ := net.SplitHostPort(s)
					o := EnrollOptions{Addr: net.JoinHostPort(host, enrollPort), TLS: cfg.TLS, LocalAddr: m.local}
					var e agentproto.KeyEntry
					if e, err = Enroll(ctx, o, req); err == nil {
						m.entry, m.hasKey = e, true
						break
					}
				}
				if err != nil {
					stats.EnrollFails.Add(1)
					if stats.EnrollFails.Load() <= 5 {
						fmt.Fprintf(cfg.Out, "agent-sim: enrolling %s: %v\n", m.Name, err)
					}
					continue
				}
				stats.Enrolled.Add(1)
				mu.Lock()
				added = append(added, m.entry)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(cfg.Out, "agent-sim: enrolled %d fleet agents in %.2fs, %d failed\n", len(added),
		time.Since(start).Seconds(), stats.EnrollFails.Load())
	return added
}
