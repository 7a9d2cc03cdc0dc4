package wazuh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/scan"
)

// extraFields are the agent fields the records need beyond what the
// scanner selects for its classification.
var extraFields = []string{"os.name", "os.version", "os.platform"}

// Fetch lists every agent of the manager, classifies it as `muster scan`
// does and maps it to a record; the manager's own agent 000 is left out, and
// so are agents outside the configured groups. Any failure, a walk cut short
// included, is an error and no record is returned.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	pg := &lastPage{}
	ctx = context.WithValue(ctx, pageKey{}, pg)
	var out []coverage.Record
	inGroup := map[string]int{}
	// The client ends a walk at the first empty page; the totals the pages
	// announced tell whether that was the end of the fleet.
	var done, total int
	track := func(d, t int) {
		done, total = d, t
		if progress != nil {
			progress(d, t)
		}
	}
	opts := scan.Options{PageSize: s.pageSize, Progress: track, Now: s.now}
	_, notes, err := scan.Classify(ctx, s.c, opts, extraFields, func(a *client.Agent, v scan.Verdict) {
		if !s.keep(a, inGroup) {
			return
		}
		request, readAt := pg.get()
		if request == "" {
			request, readAt = "GET "+s.base+"/agents", s.now()
		}
		if r, ok := mapAgent(s.name, a, v, readAt, request); ok {
			out = append(out, r)
		}
	})
	for _, n := range notes {
		s.log.Info("wazuh source: "+n, "source", s.name)
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	if total > done {
		return nil, fmt.Errorf("wazuh source %s (%s): the manager stopped listing agents after %d, although its answers announced %d more (an empty page came early); "+
			"no record is reported from a partial list: run it again, and if it persists check the manager's api.log", s.name, s.base, done, total-done)
	}
	if err := s.checkGroups(ctx, inGroup); err != nil {
		return nil, err
	}
	return out, nil
}

// keep reports whether a is in one of the configured groups (always, when
// none are), counting the agents each group kept.
func (s *Source) keep(a *client.Agent, inGroup map[string]int) bool {
	if len(s.groups) == 0 {
		return true
	}
	kept := false
	for _, g := range a.Group {
		if slices.Contains(s.groups, g) {
			inGroup[g]++
			kept = true
		}
	}
	return kept
}

// checkGroups makes sure that a configured group no agent is in exists: a
// misspelt name would otherwise turn the whole fleet into missing agents.
func (s *Source) checkGroups(ctx context.Context, inGroup map[string]int) error {
	var empty []string
	for _, g := range s.groups {
		if inGroup[g] == 0 {
			empty = append(empty, g)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	list, err := s.c.ListGroups(ctx, client.GroupQuery{Limit: client.MaxPageSize})
	if err != nil {
		s.log.Warn("wazuh source: could not check the configured group names (GET /groups)", "source", s.name, "groups", empty, "err", err)
		return nil
	}
	known := make([]string, 0, len(list.AffectedItems))
	for _, g := range list.AffectedItems {
		known = append(known, g.Name)
	}
	var unknown []string
	for _, g := range empty {
		if !slices.Contains(known, g) {
			unknown = append(unknown, strconv.Quote(g))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(known)
	for i := range known {
		known[i] = strconv.Quote(known[i])
	}
	return fmt.Errorf("wazuh source %s: groups: no Wazuh group named %s on %s (names are case-sensitive); the manager has: %s",
		s.name, strings.Join(unknown, ", "), s.base, strings.Join(known, ", "))
}

// wrap names the source in err and says what to do about it.
func (s *Source) wrap(err error) error {
	switch {
	case errors.Is(err, client.ErrInvalidCredentials):
		return fmt.Errorf("wazuh source %s: %w: the manager at %s rejected the user and password: %w; fix user or password_file/password_env (muster does not retry: failed logins lead to the manager blocking this address)",
			s.name, connauth.ErrLoginRefused, s.base, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("wazuh source %s: listing the agents of %s did not finish: %w", s.name, s.base, err)
	}
	var se *scan.Error
	if errors.As(err, &se) {
		return fmt.Errorf("wazuh source %s (%s): %w", s.name, s.base, err)
	}
	return fmt.Errorf("wazuh source %s (%s): %w; run `muster doctor` against the same URL and user to find the cause", s.name, s.base, err)
}

// pageKey marks the context of one Fetch, so that the shared transport can
// tell that Fetch which page of agents arrived, and when.
type pageKey struct{}

// lastPage is the last GET /agents answer one Fetch received.
type lastPage struct {
	mu      sync.Mutex
	request string
	at      time.Time
}

func (p *lastPage) set(request string, at time.Time) {
	p.mu.Lock()
	p.request, p.at = request, at
	p.mu.Unlock()
}

func (p *lastPage) get() (string, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.request, p.at
}

// recorder passes requests on and notes every successful GET /agents in the
// context's lastPage. The client reads a page whole before it yields its
// agents, so while the scanner handles an agent, the last page noted is the
// one it came from.
type recorder struct {
	base http.RoundTripper
	now  func() time.Time
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/agents") {
		return resp, err
	}
	if p, ok := req.Context().Value(pageKey{}).(*lastPage); ok {
		p.set(describe(req), r.now())
	}
	return resp, err
}

// describe renders a request for a record: method, URL and a readable query
// (the token travels in a header, never in the URL).
func describe(req *http.Request) string {
	u := *req.URL
	u.User = nil
	q := u.RawQuery
	u.RawQuery = ""
	s := req.Method + " " + u.String()
	if q != "" {
		if plain, err := url.QueryUnescape(q); err == nil {
			q = plain
		}
		s += "?" + q
	}
	return s
}
