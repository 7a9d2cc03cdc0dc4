package file

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

var testNow = time.Date(2025, 11, 28, 12, 0, 0, 0, time.UTC)

// build makes a source from a YAML mapping, reading files from dir.
func build(t *testing.T, doc, dir string) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	src, err := New(node.Content[0], coverage.Env{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		return nil, err
	}
	return src.(*Source), nil
}

// fetch writes content to dir/name and fetches it with the mapping extra.
func fetch(t *testing.T, name, content, extra string) ([]coverage.Record, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := build(t, "name: inv\nkind: file\npath: "+name+"\n"+extra, dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s.Fetch(context.Background(), nil)
}

func mustFetch(t *testing.T, name, content, extra string) []coverage.Record {
	t.Helper()
	recs, err := fetch(t, name, content, extra)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return recs
}

// wantErr fails unless err holds every one of parts.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\n does not say %q", err, p)
		}
	}
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(coverage.Kinds(), "file") {
		t.Fatalf("kind file is not registered: %v", coverage.Kinds())
	}
}

// TestConfigErrors: every bad mapping is refused at start, saying what to fix.
func TestConfigErrors(t *testing.T) {
	base := "name: inv\nkind: file\n"
	cols := "columns: {hostname: name}\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"network key", base + "path: a.csv\nurl: https://cmdb\nuser: bob\n" + cols, "file sources read a local file; remove url, user"},
		{"token", base + "path: a.csv\ntoken_env: X\n" + cols, "remove token_env"},
		{"no path", base + cols, "path is not set"},
		{"unknown key", base + "path: a.csv\nsheet: 1\n" + cols, `unknown key "sheet"`},
		{"unknown preset", base + "path: a.csv\npreset: cmdbx\n", `unknown preset "cmdbx"; the presets are intune, intune-report, jamf, netbox, servicenow`},
		{"unknown field", base + "path: a.csv\ncolumns: {fqdn: x}\n", `unknown field "fqdn"; the fields are id, hostname, serial, mac, ip, os, groups, last_seen, state`},
		{"empty column", base + "path: a.csv\ncolumns: {hostname: ' '}\n", "columns: hostname is empty"},
		{"nothing mapped", base + "path: a.csv\n", "no columns are mapped"},
		{"no identifier", base + "path: a.csv\ncolumns: {os: os, ip: ip}\n", "none of hostname, serial or mac is mapped"},
		{"extension", base + "path: a.xlsx\n" + cols, "cannot tell the format of a.xlsx from its extension; set format: csv or format: json"},
		{"format", base + "path: a.csv\nformat: xml\n" + cols, `format "xml" is not csv or json`},
		{"delimiter long", base + "path: a.csv\ndelimiter: ';;'\n" + cols, `delimiter ";;" is not one character`},
		{"delimiter quote", base + "path: a.csv\ndelimiter: '\"'\n" + cols, "cannot separate CSV fields"},
		{"delimiter json", base + "path: a.json\ndelimiter: ';'\n" + cols, "delimiter applies to CSV files only"},
		{"records csv", base + "path: a.csv\nrecords: data\n" + cols, "records applies to JSON files only"},
		{"records empty part", base + "path: a.json\nrecords: data..x\n" + cols, "has an empty part"},
		{"healthy no state", base + "path: a.csv\nhealthy: [up]\n" + cols, "healthy is set but no state column is mapped"},
		{"time no year", base + "path: a.csv\ntime_format: '15:04'\n" + cols, "has no year"},
		{"max bytes", base + "path: a.csv\nmax_bytes: -1\n" + cols, "max_bytes -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, tc.doc, t.TempDir())
			wantErr(t, err, tc.want)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		path, extra string
		format      string
		comma       rune
	}{
		{"a.csv", "", "csv", ','},
		{"a.tsv", "", "csv", '\t'},
		{"a.txt", "format: CSV\ndelimiter: '\\t'\n", "csv", '\t'},
		{"a.csv", "delimiter: tab\n", "csv", '\t'},
		{"a.csv", "delimiter: ';'\n", "csv", ';'},
		{"a.json", "", "json", ','},
		{"a.ndjson", "", "json", ','},
	} {
		s, err := build(t, "kind: file\npath: "+tc.path+"\ncolumns: {hostname: name}\n"+tc.extra, dir)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if s.format != tc.format || s.comma != tc.comma || s.path != filepath.Join(dir, tc.path) || s.name != "file" {
			t.Errorf("%s %q: format %s comma %q path %s name %s", tc.path, tc.extra, s.format, s.comma, s.path, s.name)
		}
	}
}

// TestFetchCSV: every field, multi-values, the row ids, Fields, the request.
func TestFetchCSV(t *testing.T) {
	content := "\xef\xbb\xbf Host Name ;Serial;MACs;IPs;OS;Groups;Seen;Status;Extra\r\n" +
		"web-01;S1;00:11:22:33:44:55 | 00:11:22:33:44:66;10.0.0.1, 10.0.0.2;Debian 12;Web Servers|prod;2025-11-27T10:00:00Z;Online;x\r\n" +
		";;;;;;;;\r\n" +
		"\"db\n02\";S2;;;;;1764237600;stopped;y\r\n" +
		";;;10.9.9.9;;;;;z\r\n"
	recs := mustFetch(t, "inv.csv", content, "delimiter: ';'\ncolumns: {hostname: host name, serial: SERIAL, mac: macs, ip: ips, os: os, groups: groups, last_seen: seen, state: status}\n")
	sum := sha256.Sum256([]byte(content))
	dir := filepath.Dir(recs[0].Request[len("read "):])
	req := fmt.Sprintf("read %s (sha256 %x)", filepath.Join(dir, "inv.csv"), sum[:6])
	want := []coverage.Record{
		{Source: "inv", ID: "row 2", Hostname: "web-01", Serial: "S1", MACs: []string{"00:11:22:33:44:55", "00:11:22:33:44:66"},
			IPs: []string{"10.0.0.1", "10.0.0.2"}, OS: "Debian 12", Groups: []string{"Web Servers", "prod"},
			State: "Online", Healthy: true, LastSeen: time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"Host Name": "web-01", "Serial": "S1", "MACs": "00:11:22:33:44:55 | 00:11:22:33:44:66",
				"IPs": "10.0.0.1, 10.0.0.2", "OS": "Debian 12", "Groups": "Web Servers|prod", "Seen": "2025-11-27T10:00:00Z", "Status": "Online"}),
			ReadAt: testNow, Request: req},
		{Source: "inv", ID: "row 4", Hostname: "db\n02", Serial: "S2", State: "stopped", LastSeen: time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"Host Name": "db\n02", "Serial": "S2", "Seen": "1764237600", "Status": "stopped"}),
			ReadAt: testNow, Request: req},
		// No identifier: kept, for the engine to report as unidentified.
		{Source: "inv", ID: "row 6", IPs: []string{"10.9.9.9"}, Fields: coverage.FieldsOf(map[string]string{"IPs": "10.9.9.9"}), ReadAt: testNow, Request: req},
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestFetchCSVIDAndListed(t *testing.T) {
	recs := mustFetch(t, "a.csv", "id,name\nA-1,alpha\n,beta\n", "columns: {id: id, hostname: name}\n")
	if len(recs) != 2 || recs[0].ID != "A-1" || recs[1].ID != "row 3" {
		t.Fatalf("ids: %+v", recs)
	}
	for _, r := range recs {
		if r.State != StateListed || !r.Healthy {
			t.Errorf("%s: state %q healthy %v; want listed, true (no state column)", r.ID, r.State, r.Healthy)
		}
	}
}

func TestFetchHealthyConfigured(t *testing.T) {
	recs := mustFetch(t, "a.csv", "name,st\na,Green\nb,active\n", "columns: {hostname: name, state: st}\nhealthy: [GREEN]\n")
	if !recs[0].Healthy || recs[1].Healthy {
		t.Errorf("healthy: %v %v; want true false (healthy: replaces the defaults)", recs[0].Healthy, recs[1].Healthy)
	}
}

func TestFetchCSVErrors(t *testing.T) {
	hn := "columns: {hostname: name}\n"
	for _, tc := range []struct {
		name, file, content, extra string
		want                       []string
	}{
		{"missing column", "a.csv", "host,serial\nx,1\n", "columns: {hostname: name}\n",
			[]string{`column "name" (columns: hostname) is not in the header`, `the header has "host", "serial"`}},
		{"semicolon file", "a.csv", "name;serial\nx;1\n", hn,
			[]string{`the header has "name;serial"`, "the delimiter is probably a semicolon (;), not a comma (,); set delimiter: \";\""}},
		{"tab file", "a.csv", "name\tserial\nx\t1\n", "columns: {serial: serial}\n",
			[]string{"the delimiter is probably a tab", `set delimiter: "\t"`}},
		{"ragged", "a.csv", "name,serial\nx,1\ny,2,3\n", hn,
			[]string{"line 3 has 3 fields, the header (line 1) has 2"}},
		{"bare quote", "a.csv", "name,serial\nx\"y,1\n", hn,
			[]string{"line 2, column 2", "quote"}},
		{"bad last_seen", "a.csv", "name,seen\nx,2025-11-27\ny,yesterday\n", "columns: {hostname: name, last_seen: seen}\n",
			[]string{`line 3: last_seen "yesterday" (column "seen") is not a time`, "RFC 3339", "unix seconds"}},
		{"bad layout", "a.csv", "name,seen\nx,2025-11-27\n", "columns: {hostname: name, last_seen: seen}\ntime_format: '02.01.2006'\n",
			[]string{`line 2: last_seen "2025-11-27"`, `the layout "02.01.2006"`}},
		{"html", "a.csv", "\n  <!DOCTYPE html><html><body>Sign in</body></html>", hn,
			[]string{"this looks like HTML, not CSV/JSON"}},
		{"json as csv", "a.csv", `{"name": "x"}`, hn, []string{"this looks like JSON, not CSV", "format: json"}},
		{"empty", "a.csv", "", hn, []string{"is empty"}},
		{"header only spaces", "a.csv", "\xef\xbb\xbf", hn, []string{"is empty"}},
		{"too large", "a.csv", "name\n" + strings.Repeat("x\n", 100), hn + "max_bytes: 100\n",
			[]string{"is 205 bytes, more than max_bytes (100)"}},
		{"wrong preset", "a.csv", "host,sn\nx,1\n", "preset: jamf\n",
			[]string{"does not look like a jamf export", `the header has "host", "sn"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetch(t, tc.file, tc.content, tc.extra)
			wantErr(t, err, tc.want...)
			wantErr(t, err, "file source inv: ")
		})
	}
}

func TestFetchMissingFile(t *testing.T) {
	dir := t.TempDir()
	s, err := build(t, "name: inv\nkind: file\npath: gone.csv\ncolumns: {hostname: name}\n", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(context.Background(), nil)
	wantErr(t, err, filepath.Join(dir, "gone.csv")+" does not exist", "check path:")
}

func TestFetchCanceled(t *testing.T) {
	dir := t.TempDir()
	content := "name\n" + strings.Repeat("h\n", 10000)
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := build(t, "kind: file\npath: a.csv\ncolumns: {hostname: name}\n", dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Fetch(ctx, nil); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("Fetch on a canceled context: %v", err)
	}
}

func TestFetchProgress(t *testing.T) {
	dir := t.TempDir()
	content := "name\n" + strings.Repeat("h\n", 25000)
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := build(t, "kind: file\npath: a.csv\ncolumns: {hostname: name}\n", dir)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int
	recs, err := s.Fetch(context.Background(), func(done, total int) { got = append(got, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{10000, -1}, {20000, -1}, {25000, 25000}}
	if len(recs) != 25000 || !slices.Equal(got, want) {
		t.Errorf("progress %v (records %d); want %v", got, len(recs), want)
	}
}

func TestFetchJSON(t *testing.T) {
	cols := "columns: {id: uid, hostname: host, mac: nics.mac, groups: tags, last_seen: seen, state: agent.status}\n"
	doc := `{"meta": {"n": [1, 2]}, "data": {"devices": [
		{"uid": 7, "host": "a", "nics": [{"mac": "00:11:22:33:44:55"}, {"mac": "00:11:22:33:44:66"}], "tags": ["x", "y z"], "seen": 1764237600000, "agent": {"status": "Running"}},
		{"HOST": "b", "seen": null, "agent": {"status": "stopped"}}
	], "after": {"k": [true]}}}`
	recs := mustFetch(t, "a.json", doc, cols+"records: data.devices\n")
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	a, b := recs[0], recs[1]
	if a.ID != "7" || a.Hostname != "a" || !slices.Equal(a.MACs, []string{"00:11:22:33:44:55", "00:11:22:33:44:66"}) ||
		!slices.Equal(a.Groups, []string{"x", "y z"}) || !a.LastSeen.Equal(time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)) ||
		a.State != "Running" || !a.Healthy || a.Fields.Map()["nics.mac"] != "00:11:22:33:44:55, 00:11:22:33:44:66" || a.Fields.Map()["agent.status"] != "Running" {
		t.Errorf("first record: %+v", a)
	}
	if b.ID != "item 2" || b.Hostname != "b" || !b.LastSeen.IsZero() || b.Healthy || b.Fields.Map()["HOST"] != "b" {
		t.Errorf("second record: %+v", b)
	}
}

func TestFetchJSONForms(t *testing.T) {
	cols := "columns: {hostname: name}\n"
	for _, tc := range []struct{ name, file, content string }{
		{"array", "a.json", `[{"name": "a"}, {"name": "b"}]`},
		{"lines", "a.jsonl", "{\"name\": \"a\"}\n\n{\"name\": \"b\"}\n"},
		{"lines in .json", "a.json", "{\"name\": \"a\", \"ips\": [\"x\"]}\n{\"name\": \"b\"}\n"},
		{"bom", "a.json", "\xef\xbb\xbf[{\"name\": \"a\"}, {\"name\": \"b\"}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := mustFetch(t, tc.file, tc.content, cols)
			if len(recs) != 2 || recs[0].Hostname != "a" || recs[1].Hostname != "b" || recs[1].ID != "item 2" {
				t.Errorf("records: %+v", recs)
			}
		})
	}
	recs := mustFetch(t, "one.json", `{"name": "solo"}`, cols)
	if len(recs) != 1 || recs[0].Hostname != "solo" {
		t.Errorf("single object: %+v", recs)
	}
	if recs := mustFetch(t, "none.json", `[]`, cols); len(recs) != 0 {
		t.Errorf("empty array: %+v", recs)
	}
}

func TestFetchJSONErrors(t *testing.T) {
	cols := "columns: {hostname: name}\n"
	for _, tc := range []struct {
		name, file, content, extra string
		want                       []string
	}{
		{"truncated", "a.json", `[{"name": "a"}, {"name": "b`, cols, []string{"ends early, inside a value, at byte offset 27", "truncated"}},
		{"truncated array", "a.json", `[{"name": "a"},`, cols, []string{"ends early", "truncated"}},
		{"malformed", "a.json", `[{"name": "a"} {"name": "b"}]`, cols, []string{"malformed JSON at byte offset 15"}},
		{"trailing", "a.json", `[{"name": "a"}] x`, cols, []string{"malformed JSON at byte offset 16"}},
		{"not object", "a.json", `[{"name": "a"}, "b"]`, cols, []string{"item 2 is a string, not an object"}},
		{"html", "a.json", "<html><head><title>502 Bad Gateway</title>", cols, []string{"this looks like HTML, not CSV/JSON"}},
		{"csv as json", "a.json", "name,serial\n", cols, []string{"this is not JSON", "format: csv"}},
		{"object needs records", "a.json", `{"total": 2, "items": [{"name": "a"}], "links": []}`, cols,
			[]string{"the top level is an object", "set records:", "arrays here: items, links"}},
		{"records missing", "a.json", `{"data": {"hosts": []}}`, cols + "records: data.devices\n",
			[]string{`records: data.devices: data has no key "devices" (its keys: "hosts")`}},
		{"records not array", "a.json", `{"data": {"devices": {"a": 1}}}`, cols + "records: data.devices\n",
			[]string{"records: data.devices is an object, not an array"}},
		{"records on array", "a.json", `[]`, cols + "records: data\n", []string{"top level is an array"}},
		{"column nowhere", "a.json", `[{"host": "a"}, {"host": "b"}]`, cols,
			[]string{`column "name" (columns: hostname) is in none of the 2 records`, `keys are "host"`}},
		{"column holds object", "a.json", `[{"name": {"first": "a", "display": "A"}}]`, cols,
			[]string{`item 1: column "name" (for hostname) holds an object`, "name.display"}},
		{"bad last_seen", "a.json", `[{"name": "a", "t": "soon"}]`, "columns: {hostname: name, last_seen: t}\n",
			[]string{`item 1: last_seen "soon"`}},
		{"too large", "a.json", `[` + strings.Repeat(`{"name": "a"},`, 20) + `{}]`, cols + "max_bytes: 64\n", []string{"more than max_bytes (64)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetch(t, tc.file, tc.content, tc.extra)
			wantErr(t, err, tc.want...)
		})
	}
}

// TestLimitReader: a file that grows past max_bytes while it is read fails.
func TestLimitReader(t *testing.T) {
	s := &Source{path: "x.csv", comma: ',', format: "csv", maxBytes: 10, healthy: map[string]bool{}}
	s.cols[fHostname] = column{names: []string{"name"}, explicit: true}
	in := &limitReader{r: strings.NewReader("name\n" + strings.Repeat("abc\n", 10)), max: 10, path: "x.csv"}
	_, err := s.readCSV(context.Background(), in, func(int, int) {})
	wantErr(t, err, "grew past max_bytes (10)")
}
