package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/muster-project/muster/client"
)

// fleet is an agent registry behind a minimal GET /agents (q with id>, id<, status=, ";", "," and parentheses).
type fleet struct {
	mu        sync.Mutex
	status    map[int]string
	requests  []url.Values
	afterPage func(page int) // mutates the fleet between pages
}

func newFleet(ids ...int) *fleet {
	fl := &fleet{status: map[int]string{}}
	for _, id := range ids {
		fl.status[id] = client.StatusActive
	}
	return fl
}

func (fl *fleet) add(id int, status string) { fl.status[id] = status }

func (fl *fleet) serve(w http.ResponseWriter, r *http.Request) {
	fl.mu.Lock()
	q := r.URL.Query()
	fl.requests = append(fl.requests, q)
	page := len(fl.requests)
	var ids []int
	for id, st := range fl.status {
		if matches(q.Get("q"), id, st) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if q.Get("sort") == "-id" {
		slices.Reverse(ids)
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	total := len(ids)
	ids = ids[min(offset, total):min(offset+limit, total)]
	items := make([]map[string]any, len(ids))
	for i, id := range ids {
		items[i] = map[string]any{"id": fmt.Sprintf("%03d", id), "status": fl.status[id]}
	}
	if fl.afterPage != nil {
		fl.afterPage(page)
	}
	fl.mu.Unlock()
	writeJSON(w, affected(items, total))
}

// matches evaluates the tiny query language subset of the fake.
func matches(q string, id int, status string) bool {
	for _, clause := range splitTop(q, ';') {
		clause = strings.TrimSuffix(strings.TrimPrefix(clause, "("), ")")
		ok := false
		for _, atom := range splitTop(clause, ',') {
			atom = strings.Trim(atom, "()")
			switch {
			case strings.HasPrefix(atom, "id>"):
				n, _ := strconv.Atoi(atom[3:])
				ok = ok || id > n
			case strings.HasPrefix(atom, "id<"):
				n, _ := strconv.Atoi(atom[3:])
				ok = ok || id < n
			case strings.HasPrefix(atom, "status="):
				ok = ok || status == atom[7:]
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// splitTop splits s on sep outside parentheses.
func splitTop(s string, sep byte) []string {
	if s == "" {
		return nil
	}
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func startFleet(t *testing.T, fl *fleet) *client.Client {
	f := newFake(t, newClock())
	f.handle("GET /agents", fl.serve)
	c, _ := start(t, f)
	return c
}

// collect walks the iterator and returns the ids it yielded.
func collect(t *testing.T, seq func(func(client.Agent, error) bool)) []int {
	t.Helper()
	var got []int
	for a, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(a.ID)
		got = append(got, n)
	}
	return got
}

func scenario() (*fleet, []int) {
	fl := newFleet()
	var initial []int
	for id := 0; id <= 95; id++ {
		if id == 3 || id == 7 {
			continue // purged earlier; Wazuh may hand these ids out again
		}
		fl.add(id, client.StatusActive)
		initial = append(initial, id)
	}
	next := 96
	fl.afterPage = func(page int) {
		fl.add(next, client.StatusNeverConnected) // a new enrollment at the end
		next++
		if page == 2 {
			fl.add(3, client.StatusActive) // a reused low id
		}
	}
	return fl, initial
}

func TestKeysetStableWhileAgentsAreAdded(t *testing.T) {
	fl, initial := scenario()
	c := startFleet(t, fl)
	got := collect(t, c.AllAgents(context.Background(), client.AgentQuery{}, 10))

	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("keyset walk not strictly increasing or has duplicates: %v", got)
	}
	for _, id := range initial {
		if !slices.Contains(got, id) {
			t.Fatalf("agent %d existed before the walk and was skipped", id)
		}
	}
	if !slices.Contains(got, 96) {
		t.Fatalf("agents enrolled at the end during the walk should be reached: %v", got[len(got)-5:])
	}
	for i, q := range fl.requests {
		if q.Get("sort") != "id" || q.Has("offset") || (i > 0 && !strings.HasPrefix(q.Get("q"), "id>")) {
			t.Fatalf("request %d is not a keyset request: %v", i, q)
		}
	}

	// The same scenario with offset paging repeats an agent: this is what keyset avoids.
	fl2, _ := scenario()
	c2 := startFleet(t, fl2)
	got2 := collect(t, c2.AllAgents(context.Background(), client.AgentQuery{}, 10, client.PageByOffset()))
	if len(slices.Compact(slices.Clone(sortedCopy(got2)))) == len(got2) {
		t.Fatalf("expected the offset walk to repeat an agent in this scenario, got %v", got2)
	}
}

func sortedCopy(s []int) []int {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestKeysetKeepsUserQueryInParentheses(t *testing.T) {
	fl := newFleet()
	for id := 1; id <= 30; id++ {
		fl.add(id, []string{client.StatusActive, client.StatusPending, client.StatusDisconnected}[id%3])
	}
	c := startFleet(t, fl)
	q := client.AgentQuery{Q: "status=active,status=pending"}
	got := collect(t, c.AllAgents(context.Background(), q, 5))
	if len(got) != 20 {
		t.Fatalf("got %d agents, want the 20 active or pending ones", len(got))
	}
	if first, second := fl.requests[0].Get("q"), fl.requests[1].Get("q"); first != "(status=active,status=pending)" ||
		!strings.HasPrefix(second, "(status=active,status=pending);id>") {
		t.Fatalf("queries sent: %q then %q", first, second)
	}
}

func TestPaginationProgressAndStops(t *testing.T) {
	fl := newFleet()
	for id := 1; id <= 25; id++ {
		fl.add(id, client.StatusActive)
	}
	c := startFleet(t, fl)
	type call struct{ done, total int }
	var calls []call
	got := collect(t, c.AllAgents(context.Background(), client.AgentQuery{}, 10,
		client.PageProgress(func(d, tot int) { calls = append(calls, call{d, tot}) })))
	if len(got) != 25 || len(fl.requests) != 3 {
		t.Fatalf("got %d agents in %d requests, want 25 in 3", len(got), len(fl.requests))
	}
	want := []call{{10, 25}, {20, 25}, {25, 25}}
	if !slices.Equal(calls, want) {
		t.Fatalf("progress = %v, want %v", calls, want)
	}

	fl.requests = nil
	desc := collect(t, c.AllAgents(context.Background(), client.AgentQuery{Sort: "-id"}, 10))
	if desc[0] != 25 || len(desc) != 25 || fl.requests[2].Get("offset") != "20" {
		t.Fatalf("offset walk with sort: first %d, %d agents, requests %v", desc[0], len(desc), fl.requests)
	}

	fl.requests = nil
	for range c.AllAgents(context.Background(), client.AgentQuery{}, 10) {
		break
	}
	if len(fl.requests) != 1 {
		t.Fatalf("stopping early still fetched %d pages", len(fl.requests))
	}
}

func TestKeysetRefusesConflictingQueries(t *testing.T) {
	fl := newFleet(1, 2)
	c := startFleet(t, fl)
	for _, q := range []client.AgentQuery{{Sort: "name"}, {Offset: 5}, {Distinct: true}} {
		for _, err := range c.AllAgents(context.Background(), q, 10, client.PageByKeyset()) {
			if err == nil {
				t.Fatalf("query %+v accepted for keyset paging", q)
			}
		}
	}
	if len(fl.requests) != 0 {
		t.Fatalf("refused walks still sent %d requests", len(fl.requests))
	}
}

func TestKeysetQuery(t *testing.T) {
	for _, tc := range []struct {
		q    string
		last int
		want string
	}{
		{"", -1, ""}, {"a=1,b=2", -1, "(a=1,b=2)"}, {"", 5, "id>5"}, {"a=1,b=2", 5, "(a=1,b=2);id>5"},
	} {
		if got := client.KeysetQuery(tc.q, tc.last); got != tc.want {
			t.Errorf("keysetQuery(%q, %d) = %q, want %q", tc.q, tc.last, got, tc.want)
		}
	}
}
