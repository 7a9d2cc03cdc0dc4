package meshcentral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/muster-project/muster/internal/coverage"
)

// Fetch reads every device of the configured groups (all visible devices
// when none): the device groups and the device list, then for each device
// its network interfaces and, when its agent is offline, when it last
// connected (Concurrency requests outstanding at once).
//
// The websocket is kept for the next Fetch. A kept websocket that dropped
// is dialed again, once; after any failure the websocket is closed, so no
// late answer of a failed walk can be taken for a new one.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.Lock()
	c := s.ws
	s.mu.Unlock()
	if c != nil && !c.alive() {
		s.log.Debug("meshcentral: the kept websocket dropped; dialing again", "source", s.name, "why", c.err)
		c = nil
	}
	reused := c != nil
	recs, err := s.walkOn(ctx, c, progress)
	if err != nil && reused && errors.Is(err, errDropped) && ctx.Err() == nil {
		s.log.Debug("meshcentral: the kept websocket dropped during the walk; dialing again", "source", s.name, "why", err)
		recs, err = s.walkOn(ctx, nil, progress)
	}
	return recs, s.wrap(err)
}

// walkOn walks on c, or on a new connection when c is nil, keeping the
// connection when the walk succeeds and closing it when it fails.
func (s *Source) walkOn(ctx context.Context, c *wsConn, progress coverage.Progress) ([]coverage.Record, error) {
	if c == nil {
		var err error
		if c, err = s.dial(ctx); err != nil {
			s.setConn(nil)
			return nil, err
		}
	}
	s.setConn(c)
	recs, err := s.walk(ctx, c, progress)
	if err != nil {
		c.close()
		s.setConn(nil)
		return nil, err
	}
	return recs, nil
}

func (s *Source) setConn(c *wsConn) {
	s.mu.Lock()
	old := s.ws
	s.ws = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
}

// Close ends the kept websocket, if any.
func (s *Source) Close() error {
	s.setConn(nil)
	return nil
}

func (s *Source) walk(ctx context.Context, c *wsConn, progress coverage.Progress) ([]coverage.Record, error) {
	b, err := c.ask(ctx, s.timeout, map[string]any{"action": "meshes"})
	if err != nil {
		return nil, err
	}
	meshes, err := parseMeshes(b)
	if err != nil {
		return nil, err
	}
	b, err = c.ask(ctx, s.timeout, map[string]any{"action": "nodes"})
	if err != nil {
		return nil, err
	}
	readAt := s.now()
	byMesh, err := parseNodes(b)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(meshes))
	for _, m := range meshes {
		names[m.ID] = m.Name
	}
	keep, err := s.keepMeshes(meshes)
	if err != nil {
		return nil, err
	}
	var devs []device
	seen := map[string]bool{}
	for _, meshID := range slices.Sorted(mapKeys(byMesh)) {
		if keep != nil && !keep[meshID] {
			continue
		}
		group := names[meshID]
		if group == "" {
			group = meshID
		}
		for _, n := range byMesh[meshID] {
			if seen[n.ID] {
				continue
			}
			seen[n.ID] = true
			devs = append(devs, device{node: n, meshID: meshID, group: group})
		}
	}
	if err := s.details(ctx, c, devs, progress); err != nil {
		return nil, err
	}
	out := make([]coverage.Record, len(devs))
	for i, d := range devs {
		out[i] = mapDevice(s.name, d, readAt, s.request())
	}
	return out, nil
}

// keepMeshes is the set of mesh ids the configured groups name; nil when
// no groups are configured.
func (s *Source) keepMeshes(meshes []apiMesh) (map[string]bool, error) {
	if len(s.groups) == 0 {
		return nil, nil
	}
	keep := map[string]bool{}
	var known []string
	for _, g := range s.groups {
		found := false
		for _, m := range meshes {
			if m.Name == g {
				keep[m.ID] = true
				found = true
			}
		}
		if !found {
			for _, m := range meshes {
				known = append(known, fmt.Sprintf("%q", m.Name))
			}
			if len(known) == 0 {
				return nil, fmt.Errorf("device group %q not found: user %s sees no device group; check the user's rights", g, s.user)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("device group %q not found; user %s sees %s", g, s.user, strings.Join(slices.Compact(known), ", "))
		}
	}
	return keep, nil
}

// details asks each device's network information and, for offline
// devices, their last connection; the first failure stops the rest.
func (s *Source) details(ctx context.Context, c *wsConn, devs []device, progress coverage.Progress) error {
	total := len(devs)
	progress(0, total)
	if total == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, max(s.conc, 1))
	for i := range devs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(d *device) {
			defer wg.Done()
			defer func() { <-sem }()
			err := s.detail(ctx, c, d)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			if firstErr == nil {
				done++
				progress(done, total)
			}
		}(&devs[i])
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("%w (reading %d devices)", firstErr, total)
	}
	return ctx.Err()
}

func (s *Source) detail(ctx context.Context, c *wsConn, d *device) error {
	if d.node.Conn == nil || int64(*d.node.Conn)&1 == 0 {
		b, err := c.ask(ctx, s.timeout, map[string]any{"action": "lastconnect", "nodeid": d.node.ID})
		if err != nil {
			return err
		}
		if d.last, err = parseLastConnect(b); err != nil {
			return err
		}
	}
	b, err := c.ask(ctx, s.timeout, map[string]any{"action": "getnetworkinfo", "nodeid": d.node.ID})
	if err != nil {
		return err
	}
	if d.net, err = parseNetInfo(b); err != nil {
		return err
	}
	if d.net.NoInfo {
		s.log.Debug("meshcentral: no network information", "source", s.name, "node", d.node.ID, "result", d.net.Result)
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
