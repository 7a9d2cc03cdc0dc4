package groupfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The goldens are what Wazuh 4.14.7's upload code (Python minidom's
// toprettyxml and its replacements) stores for each input.
func TestReformatAsWazuhStores(t *testing.T) {
	ins, _ := filepath.Glob("testdata/reformat/*.in")
	if len(ins) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range ins {
		src, _ := os.ReadFile(in)
		want, err := os.ReadFile(strings.TrimSuffix(in, ".in") + ".want")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Reformat(src)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", in, got, want)
		}
	}
	for _, bad := range []string{"<a>", "<a></b>", "<?xml version='1.0'?><a/>", "<a>&bogus;</a>"} {
		if _, err := Reformat([]byte(bad)); err == nil {
			t.Errorf("%q reformatted", bad)
		}
	}
}

func FuzzReformat(f *testing.F) {
	f.Add([]byte("<agent_config><localfile><location>x</location></localfile></agent_config>"))
	f.Add([]byte("<a b='1'>t<!-- c --><d/>\\<e\\></a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Reformat(data)
		if err == nil && len(out) == 0 {
			t.Fatal("empty output without error")
		}
	})
}
