package storetest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/muster-project/muster/internal/core"
)

// GroupStore is what the group files suite needs of a store.
type GroupStore interface {
	core.AgentStore
	core.GroupFileStore
}

func sum(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func put(group, name, data string, mtime int64) core.GroupFileChange {
	return core.GroupFileChange{GroupFileRow: core.GroupFileRow{Group: group, Name: name, Data: []byte(data),
		Sum: sum([]byte(data)), MTime: mtime}}
}

func marker(group string) core.GroupFileChange {
	return core.GroupFileChange{GroupFileRow: core.GroupFileRow{Group: group, MTime: 1}, IfAbsent: true}
}

// GroupFiles runs the conformance suite for core.GroupFileStore against
// stores made by open (a fresh, empty store each call).
func GroupFiles(t *testing.T, open func(t *testing.T) GroupStore) {
	ctx := context.Background()
	apply := func(t *testing.T, s GroupStore, cs ...core.GroupFileChange) []bool {
		t.Helper()
		ok, err := s.ApplyGroupFiles(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	listed := func(t *testing.T, s GroupStore) map[[2]string]core.GroupFileRow {
		t.Helper()
		rows, err := s.ListGroupFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[[2]string]core.GroupFileRow{}
		for _, r := range rows {
			if r.Data != nil {
				t.Fatalf("listing carries data for %s/%s", r.Group, r.Name)
			}
			out[[2]string{r.Group, r.Name}] = r
		}
		return out
	}

	t.Run("version and epoch", func(t *testing.T) {
		s := open(t)
		v0, epoch, err := s.GroupState(ctx)
		if err != nil || epoch == "" {
			t.Fatalf("state %d %q %v", v0, epoch, err)
		}
		apply(t, s, marker("web"))
		v1, epoch1, _ := s.GroupState(ctx)
		if v1 <= v0 || epoch1 != epoch {
			t.Fatalf("after a write: version %d -> %d, epoch %q -> %q", v0, v1, epoch, epoch1)
		}
		if other := open(t); other != nil {
			if _, e, _ := other.GroupState(ctx); e == epoch {
				t.Fatal("two stores share an epoch")
			}
		}
	})

	t.Run("files need their group", func(t *testing.T) {
		s := open(t)
		got := apply(t, s, put("web", "agent.conf", "<agent_config/>", 5), marker("web"), put("web", "agent.conf", "x", 6),
			put("", "ar.conf", "ar", 7), marker("web"))
		if want := []bool{false, true, true, true, false}; !equalBools(got, want) {
			t.Fatalf("applied %v, want %v", got, want)
		}
		rows := listed(t, s)
		if r := rows[[2]string{"web", "agent.conf"}]; r.Sum != sum([]byte("x")) || r.MTime != 6 {
			t.Fatalf("agent.conf row %+v", r)
		}
		if _, ok := rows[[2]string{"", "ar.conf"}]; !ok || len(rows) != 3 {
			t.Fatalf("rows %v", rows)
		}
		full, err := s.ReadGroupFiles(ctx, []string{"web"})
		if err != nil || len(full) != 2 || string(full[1].Data) != "x" || full[0].Name != "" || full[0].Data == nil {
			t.Fatalf("read web: %+v %v", full, err)
		}
	})

	t.Run("conditional writes", func(t *testing.T) {
		s := open(t)
		apply(t, s, marker("g"), put("g", "a", "new", 100))
		older := put("g", "a", "old", 50)
		older.NotOlder = true
		absent := put("g", "a", "other", 200)
		absent.IfAbsent = true
		wrongSum := core.GroupFileChange{GroupFileRow: core.GroupFileRow{Group: "g", Name: "a"}, Delete: true, IfSum: sum([]byte("old"))}
		if got := apply(t, s, older, absent, wrongSum); !equalBools(got, []bool{false, false, false}) {
			t.Fatalf("applied %v", got)
		}
		newer := put("g", "a", "newer", 150)
		newer.NotOlder = true
		rightSum := core.GroupFileChange{GroupFileRow: core.GroupFileRow{Group: "g", Name: "b"}, Delete: true}
		if got := apply(t, s, newer, rightSum); !equalBools(got, []bool{true, false}) {
			t.Fatalf("applied %v", got)
		}
		if r := listed(t, s)[[2]string{"g", "a"}]; r.Sum != sum([]byte("newer")) {
			t.Fatalf("row %+v", r)
		}
		del := core.GroupFileChange{GroupFileRow: core.GroupFileRow{Group: "g"}, Delete: true}
		if got := apply(t, s, del); !got[0] || len(listed(t, s)) != 0 {
			t.Fatalf("group delete %v left %v", got, listed(t, s))
		}
	})

	t.Run("binary content", func(t *testing.T) {
		s := open(t)
		data := string([]byte{0, 1, 2, 255, '\n', 0})
		apply(t, s, marker("bin"), put("bin", "blob.db", data, 1))
		full, err := s.ReadGroupFiles(ctx, []string{"bin"})
		if err != nil || len(full) != 2 || string(full[1].Data) != data {
			t.Fatalf("binary file: %+v %v", full, err)
		}
	})

	t.Run("concurrent creation", func(t *testing.T) {
		// Two nodes creating the same group (the default one at start):
		// exactly one creates it, neither fails.
		s := open(t)
		var wg sync.WaitGroup
		results := make([][]bool, 8)
		errs := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.ApplyGroupFiles(ctx, []core.GroupFileChange{marker("default"),
					func() core.GroupFileChange { c := put("default", "agent.conf", "tpl", 1); c.IfAbsent = true; return c }()})
			}()
		}
		wg.Wait()
		created := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("writer %d: %v", i, errs[i])
			}
			if results[i][0] {
				created++
			}
		}
		if created != 1 || len(listed(t, s)) != 2 {
			t.Fatalf("%d creators, rows %v", created, listed(t, s))
		}
	})

	t.Run("group_config_status", func(t *testing.T) {
		s := open(t)
		if err := s.InitAgents(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAgents(ctx, agentFleet()); err != nil {
			t.Fatal(err)
		}
		ms := func(id int, v string) {
			if err := s.RecordKeepalive(ctx, core.Keepalive{ID: id, Status: core.AgentActive, MergedSum: core.Some(v),
				NodeName: "node01", GroupConfigStatus: core.ConfigSynced, Now: 6000}); err != nil {
				t.Fatal(err)
			}
		}
		ms(1, "aaa")
		status := func(id int) string {
			t.Helper()
			ags, err := s.GetAgents(ctx, []int{id})
			if err != nil || len(ags) != 1 {
				t.Fatalf("agent %d: %v", id, err)
			}
			return ags[0].GroupConfigStatus
		}
		if err := s.SetGroupConfigStatus(ctx, "web", "bbb"); err != nil {
			t.Fatal(err)
		}
		// Agent 2 holds "web,db", not "web": untouched.
		if status(1) != core.ConfigNotSynced || status(2) != core.ConfigSynced {
			t.Fatalf("statuses %s %s", status(1), status(2))
		}
		if err := s.SetGroupConfigStatus(ctx, "web", "aaa"); err != nil {
			t.Fatal(err)
		}
		if status(1) != core.ConfigSynced {
			t.Fatalf("status %s after the sum matched again", status(1))
		}
	})
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
