package zabbix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// sleeps records the transport's waits instead of waiting.
type sleeps struct {
	mu  sync.Mutex
	d   []time.Duration
	now time.Time // the transport's clock, advanced by each sleep
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	s.now = s.now.Add(d)
	return nil
}

func (s *sleeps) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// open builds a source on f from YAML (url and credentials are added), with a
// fixed clock and a recording Sleep.
func open(t *testing.T, f *fakeZabbix, extra string) (*Source, *sleeps) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(f.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: zbx\nkind: zabbix\nurl: %s/api_jsonrpc.php\n%s", f.srv.URL, extra)
	if !strings.Contains(extra, "token_") && !strings.Contains(extra, "user:") {
		doc += "user: Admin\npassword_file: pw\n"
	}
	src, err := build(t, doc, dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sl := &sleeps{now: readAt}
	src.rpc.tr.Sleep, src.rpc.tr.Now = sl.sleep, sl.clock
	return src, sl
}

func build(t *testing.T, doc, dir string) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	env := coverage.Env{Dir: dir, Now: func() time.Time { return readAt }}
	s, err := New(node.Content[0], env)
	if err != nil {
		return nil, err
	}
	return s.(*Source), nil
}

func TestFetchPages(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "groups: [probe-grp, probe-grp]\n")
	src.batch = 2
	var progress [][2]int
	recs, err := src.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	want := wantRecorded("zbx", readAt, "POST "+f.srv.URL+"/api_jsonrpc.php host.get")
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		if d := cmp.Diff(want[r.ID], r); d != "" {
			t.Errorf("record %s (-want +got):\n%s", r.ID, d)
		}
	}
	if d := cmp.Diff([][2]int{{0, 5}, {2, 5}, {4, 5}, {5, 5}}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	// one id list, then three batches of host.get and of item.get
	if f.count("host.get") != 4 || f.count("item.get") != 3 || f.count("user.login") != 1 {
		t.Errorf("calls: %v", f.calls)
	}
	if !strings.Contains(string(f.params["host.get"][0]), `"groupids":["20"]`) {
		t.Errorf("the id list did not ask for group 20: %s", f.params["host.get"][0])
	}
}

func TestNoAuthWhereZabbixRefusesIt(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"apiinfo.version", "user.login"} {
		if len(f.auths[m]) != 1 || f.auths[m][0] != "" {
			t.Errorf("%s was sent auth %q, want one call without", m, f.auths[m])
		}
	}
	if a := f.auths["host.get"]; len(a) == 0 || a[0] != fmt.Sprintf("%032x", 1) {
		t.Errorf("host.get auth = %q, want the session id", a)
	}
	if len(f.headers) != 0 {
		t.Errorf("6.0 was sent Authorization headers: %q", f.headers)
	}
}

func TestSessionEndsMidRun(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	src.batch = 2
	f.hook = func(w http.ResponseWriter, method string, n int) bool {
		if method == "host.get" && n == 3 { // the second batch
			f.endSessions()
		}
		return false
	}
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || f.count("user.login") != 2 {
		t.Errorf("got %d records after %d logins, want 5 after exactly 2", len(recs), f.count("user.login"))
	}
}

func TestSessionKeptAcrossFetchesAndClosed(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	for range 2 {
		if _, err := src.Fetch(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.count("user.login") != 1 {
		t.Errorf("two fetches logged in %d times, want 1", f.count("user.login"))
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if f.count("user.logout") != 1 || len(f.sessions) != 0 {
		t.Errorf("Close: %d logouts, %d sessions left", f.count("user.logout"), len(f.sessions))
	}
	if _, err := src.Fetch(context.Background(), nil); err != nil || f.count("user.login") != 2 {
		t.Errorf("a fetch after Close: %v, %d logins", err, f.count("user.login"))
	}
}

func TestSessionRefusedTwice(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	f.hook = func(w http.ResponseWriter, method string, n int) bool {
		if method == "host.get" {
			f.endSessions()
		}
		return false
	}
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "refused too") {
		t.Fatalf("err = %v, want a second refusal", err)
	}
	if f.count("user.login") != 2 {
		t.Errorf("%d logins, want 2 (one renewal, no loop)", f.count("user.login"))
	}
}

func TestLoginRefused(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	f.password = "changed-on-the-server"
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	for _, want := range []string{"30 s", "5 failed logins", "Admin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error shows the password: %v", err)
	}
	if f.count("user.login") != 1 || f.count("host.get") != 0 {
		t.Errorf("calls %v, want exactly one user.login and nothing else", f.calls)
	}
}

func TestAPIToken(t *testing.T) {
	f := newFake(t)
	f.token = strings.Repeat("ab", 32)
	t.Setenv("ZBX_TEST_TOKEN", f.token)
	src, _ := open(t, f, "token_env: ZBX_TEST_TOKEN\n")
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.count("user.login") != 0 || f.auths["host.get"][0] != f.token {
		t.Errorf("logins %d, host.get auth %q; want the token as it is", f.count("user.login"), f.auths["host.get"][0])
	}
	f.token = strings.Repeat("cd", 32) // revoked
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "API token was refused") {
		t.Errorf("err = %v, want a refused token", err)
	}
	if strings.Contains(err.Error(), "abab") {
		t.Errorf("error shows the token: %v", err)
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version string
		want    features
		wantErr bool
	}{
		{version: "6.0.14", want: features{version: "6.0.14", loginKey: "username", groupSelect: "selectGroups"}},
		{version: "5.0.1", want: features{version: "5.0.1", loginKey: "user", groupSelect: "selectGroups"}},
		{version: "6.2.0", want: features{version: "6.2.0", loginKey: "username", groupSelect: "selectHostGroups"}},
		{version: "7.0.5", want: features{version: "7.0.5", loginKey: "username", groupSelect: "selectHostGroups", header: true}},
		{version: "", wantErr: true},
		{version: "six", wantErr: true},
		{version: "0.9", wantErr: true},
	}
	for _, tc := range tests {
		got, err := featuresFor(tc.version)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v (error %v)", tc.version, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestVersion7UsesTheHeader(t *testing.T) {
	f := newFake(t)
	f.version = "7.0.5"
	src, _ := open(t, f, "")
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(f.headers) == 0 || f.auths["host.get"][0] != "" {
		t.Errorf("headers %q, body auth %q; want the header only", f.headers, f.auths["host.get"])
	}
	if !strings.Contains(string(f.params["host.get"][1]), "selectHostGroups") {
		t.Errorf("7.0 host.get without selectHostGroups: %s", f.params["host.get"][1])
	}
}

func TestUnknownGroup(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "groups: [probe-grp, Nope]\n")
	_, err := src.Fetch(context.Background(), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`"Nope"`, `"Linux servers", "Zabbix servers", "probe-grp"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not list %s", err, want)
		}
	}
	if f.count("host.get") != 0 {
		t.Error("hosts were read despite the unknown group")
	}
}

func TestRetryAfter(t *testing.T) {
	f := newFake(t)
	src, sl := open(t, f, "")
	f.hook = func(w http.ResponseWriter, method string, n int) bool {
		if method == "host.get" && n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 5 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if d := cmp.Diff([]time.Duration{3 * time.Second}, sl.d); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	if f.count("user.login") != 1 {
		t.Errorf("%d logins, want 1", f.count("user.login"))
	}
}

func TestConcurrentFetchesShareOneLogin(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	src.batch = 1
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil && len(recs) != 5 {
				err = fmt.Errorf("%d records", len(recs))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if f.count("user.login") != 1 {
		t.Errorf("8 concurrent fetches logged in %d times, want 1", f.count("user.login"))
	}
}

func TestMessages(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	f.password = "other"
	_, err := src.Fetch(context.Background(), nil)
	if strings.Contains(err.Error(), ".;") {
		t.Errorf("error %q has a stray period", err)
	}
	if strings.Count(err.Error(), "zabbix source zbx") != 1 {
		t.Errorf("error %q names the source %d times, want once", err, strings.Count(err.Error(), "zabbix source zbx"))
	}
}

func TestHostDeletedBetweenListAndRead(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	f.hook = func(w http.ResponseWriter, method string, n int) bool {
		if method == "host.get" && n == 1 { // the id list names a host that is gone by the next call
			w.Write([]byte(`{"jsonrpc":"2.0","result":[{"hostid":"10560"},{"hostid":"10561"},{"hostid":"99999"}],"id":3}`))
			return true
		}
		return false
	}
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if d := cmp.Diff([]string{"10560", "10561"}, ids); d != "" {
		t.Errorf("ids (-want +got):\n%s", d)
	}
}
