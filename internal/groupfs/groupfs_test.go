package groupfs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixture = "../../../shared/fixtures/wazuh-4.14.7"

// copyGroup builds a shared directory holding one fixture group and ar.conf.
func copyGroup(t *testing.T, group string) *Dir {
	t.Helper()
	root := filepath.Join(t.TempDir(), "shared")
	if err := os.MkdirAll(filepath.Join(root, group), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ar.conf", group + "/agent.conf"} {
		b, err := os.ReadFile(filepath.Join(fixture, "etc/shared", f))
		if err != nil {
			t.Skipf("fixture: %v", err)
		}
		if err := os.WriteFile(filepath.Join(root, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMergedMatchesWazuh(t *testing.T) {
	for group, sum := range map[string]string{"web": "b7c8c5ab7350f7e4a210e877dfa21347",
		"db": "3fc753e76bff89d853ede3b3690dddd1", "default": "3a84c2cd74683f47764ed6f4a05d28f0"} {
		d := copyGroup(t, group)
		got, changed, err := d.Refresh(group)
		if err != nil {
			t.Fatal(err)
		}
		if got != sum {
			want, _ := os.ReadFile(filepath.Join(fixture, "etc/shared", group, "merged.mg"))
			mine, _ := d.Merged(group)
			t.Fatalf("%s: md5 %s, want %s\n--- mine\n%q\n--- wazuh\n%q", group, got, sum, mine, want)
		}
		if group != "default" && !changed {
			t.Fatalf("%s: merged.mg not written", group)
		}
		if _, changed, _ := d.Refresh(group); changed {
			t.Fatalf("%s: unchanged content rewritten", group)
		}
	}
}

func TestNewGroupUsesTemplate(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "shared"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Create("web"); err != nil {
		t.Fatal(err)
	}
	b, _, err := d.ReadFile("web", AgentConf)
	if err != nil || MD5(b) != "ab73af41699f13fdd81903b5f23d8d00" {
		t.Fatalf("agent.conf md5 %s %v", MD5(b), err)
	}
	if err := d.Create("web"); err == nil {
		t.Fatal("second create succeeded")
	}
	files, _ := d.Files("web")
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "agent.conf,ar.conf,merged.mg" {
		t.Fatalf("files %v", names)
	}
}

func TestConfigurationJSONMatchesWazuh(t *testing.T) {
	for _, group := range []string{"web", "db", "default"} {
		raw, err := os.ReadFile(filepath.Join(fixture, "etc/shared", group, "agent.conf"))
		if err != nil {
			t.Skipf("fixture: %v", err)
		}
		items, err := ToJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(items)
		var resp struct {
			Body struct {
				Data struct {
					AffectedItems json.RawMessage `json:"affected_items"`
				} `json:"data"`
			} `json:"body"`
		}
		b, _ := os.ReadFile(filepath.Join(fixture, "api-responses", "group_"+group+"_configuration.json"))
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		var want, mine any
		json.Unmarshal(resp.Body.Data.AffectedItems, &want)
		json.Unmarshal(got, &mine)
		w, _ := json.Marshal(want)
		m, _ := json.Marshal(mine)
		// Key order matters on the wire too: compare the ordered encodings.
		if string(got) != string(compactOrdered(t, resp.Body.Data.AffectedItems)) || string(w) != string(m) {
			t.Fatalf("%s:\n got %s\nwant %s", group, got, compactOrdered(t, resp.Body.Data.AffectedItems))
		}
	}
}

// compactOrdered removes the whitespace of a JSON document, keeping key order.
func compactOrdered(t *testing.T, raw []byte) []byte {
	var out strings.Builder
	in := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case in && c == '\\':
			out.WriteByte(c)
			i++
			out.WriteByte(raw[i])
			continue
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		out.WriteByte(c)
	}
	return []byte(out.String())
}

func TestParseRefusals(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		want any // *SyntaxError, *ConfigError or nil
	}{
		{"template", AgentTemplate, nil},
		{"unclosed", "<agent_config><syscheck>", &SyntaxError{}},
		{"mismatched", "<agent_config></syscheck>", &SyntaxError{}},
		{"closes the wrapper", "</root><x/>", &SyntaxError{}},
		{"doctype", "<!DOCTYPE x [<!ENTITY a 'b'>]><agent_config/>", &SyntaxError{}},
		{"bad root element", "<ossec_config/>", &ConfigError{}},
		{"bad section", "<agent_config><remote/></agent_config>", &ConfigError{}},
		{"bad attribute", `<agent_config foo="x"/>`, &ConfigError{}},
		{"bare ampersand and lt", "<agent_config><localfile><location>a&b < c</location></localfile></agent_config>", nil},
		{"double dash comment", "<!-- a -- b --><agent_config/>", nil},
		{"too deep", strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40), &SyntaxError{}},
		{"not utf-8", "<agent_config>\xff</agent_config>", &SyntaxError{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Parse([]byte(c.xml))
			switch c.want.(type) {
			case nil:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case *SyntaxError:
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("got %v, want a syntax error", err)
				}
			case *ConfigError:
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a configuration error", err)
				}
			}
		})
	}
}

func TestQueryKeepsMarkup(t *testing.T) {
	conf := "<agent_config><localfile><location>System</location><log_format>eventchannel</log_format>" +
		"<query>\n    \\<QueryList>\n      \\<Query Id=\"0\" Path=\"System\">*[System[(Level&lt;=3)]]\\</Query>\n" +
		"    \\</QueryList>\n  </query></localfile></agent_config>"
	items, err := ToJSON([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := items[0].Get("config")
	lf, _ := cfg.(Obj).Get("localfile")
	q, _ := lf.([]any)[0].(Obj).Get("query")
	want := ` <QueryList> <Query Id="0" Path="System">*[System[(Level&lt;=3)]]</Query> </QueryList> `
	if q != want {
		t.Fatalf("got %q\nwant %q", q, want)
	}
}

func TestFilePathRefusesTraversal(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "shared"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../ar.conf", "..", ".", "a/b", `a\b`, "/etc/passwd", ""} {
		if _, _, err := d.ReadFile(DefaultName, name); !errors.Is(err, ErrBadName) {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, g := range []string{"..", ".", "a/b", "../x"} {
		if d.Exists(g) || d.Create(g) == nil {
			t.Errorf("group %q accepted", g)
		}
	}
	// A symbolic link inside a group is not followed.
	os.Symlink("/etc/hostname", filepath.Join(d.Root(), DefaultName, "link.txt"))
	if _, _, err := d.ReadFile(DefaultName, "link.txt"); !errors.Is(err, ErrNoFile) {
		t.Fatalf("symlink read: %v", err)
	}
}

func FuzzAgentConf(f *testing.F) {
	f.Add([]byte(AgentTemplate))
	f.Add([]byte("<agent_config os=\"Linux\"><localfile><location>/x</location><log_format>syslog</log_format></localfile></agent_config>"))
	f.Add([]byte("<agent_config><syscheck><directories check_all=\"yes\">/a,/b</directories></syscheck></agent_config>"))
	f.Add([]byte("<agent_config><labels><label key=\"k\">v</label></labels><wodle name=\"x\"><a>b</a></wodle></agent_config>"))
	f.Add([]byte("<!-- -- --><agent_config>&<</agent_config>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		perr := Parse(data)
		items, jerr := ToJSON(data)
		var se *SyntaxError
		if errors.As(jerr, &se) != errors.As(perr, &se) {
			t.Fatalf("Parse and ToJSON disagree on well-formedness: %v / %v", perr, jerr)
		}
		if jerr == nil {
			if _, err := json.Marshal(items); err != nil {
				t.Fatalf("unencodable result: %v", err)
			}
		}
	})
}

func TestMultigroupMatchesWazuh(t *testing.T) {
	d := copyGroup(t, "web")
	b, err := os.ReadFile(filepath.Join(fixture, "etc/shared/db/agent.conf"))
	if err != nil {
		t.Skip(err)
	}
	os.MkdirAll(filepath.Join(d.Root(), "db"), 0o700)
	os.WriteFile(filepath.Join(d.Root(), "db", AgentConf), b, 0o600)
	if h := MultigroupHash([]string{"web", "db"}); h != "01f925bf" {
		t.Fatalf("hash %s", h)
	}
	multi := filepath.Join(t.TempDir(), "multigroups")
	d.SetMultigroupRoot(multi)
	sum, err := d.RefreshMultigroup([]string{"web", "db"})
	if err != nil || sum != "5cb55797765faa0088198443567787c8" {
		mine, _ := d.MergedFor([]string{"web", "db"})
		t.Fatalf("md5 %s %v\n%s", sum, err, mine)
	}
	if got, _ := os.ReadFile(filepath.Join(multi, "01f925bf", MergedFile)); MD5(got) != sum {
		t.Fatal("multi-group merged.mg not written")
	}
}
