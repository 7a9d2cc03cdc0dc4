package api

import (
	"slices"
	"sort"
	"strings"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"go.yaml.in/yaml/v3"
)

// uploadRules are api.yaml's upload_configuration switches: what an
// uploaded ossec.conf may change.
type uploadRules struct {
	localfile, wodle      bool     // remote commands allowed
	localfileEx, wodleEx  []string // commands allowed anyway
	limits                map[string]bool
	higherVersions        bool
	indexer, vtPublicKeys bool
}

// uploadSettings reads upload_configuration over Wazuh's defaults.
func uploadSettings(n yaml.Node) uploadRules {
	m := defaultUploadConfiguration()
	var set map[string]any
	if n.Kind != 0 && n.Decode(&set) == nil {
		fillOver(m, set)
	}
	get := func(path ...string) any {
		var v any = m
		for _, p := range path {
			o, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = o[p]
		}
		return v
	}
	allow := func(path ...string) bool {
		b, ok := get(append(path, "allow")...).(bool)
		return !ok || b
	}
	list := func(path ...string) []string {
		var out []string
		items, _ := get(append(path, "exceptions")...).([]any)
		for _, it := range items {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	r := uploadRules{
		localfile: allow("remote_commands", "localfile"), localfileEx: list("remote_commands", "localfile"),
		wodle: allow("remote_commands", "wodle_command"), wodleEx: list("remote_commands", "wodle_command"),
		higherVersions: allow("agents", "allow_higher_versions"), indexer: allow("indexer"),
		vtPublicKeys: allow("integrations", "virustotal", "public_key"), limits: map[string]bool{},
	}
	if lm, ok := get("limits").(map[string]any); ok {
		for name := range lm {
			r.limits[name] = allow("limits", name)
		}
	}
	return r
}

// checkProtected applies the switches as Wazuh does: a protected part of
// the configuration must be the same in the upload as in the current
// file. Wazuh's order: remote commands (1124), higher-version agents
// (1129), VirusTotal keys (1130/1131), indexer and limits (1127).
func checkProtected(r uploadRules, next, cur *config.OssecFile) *core.Error {
	if !r.localfile && !sameItems(commandLocalfiles(next, r.localfileEx), commandLocalfiles(cur, r.localfileEx)) {
		return updErr(1124, "localfile")
	}
	if !r.wodle && !sameItems(commandWodles(next, r.wodleEx), commandWodles(cur, r.wodleEx)) {
		return updErr(1124, "wodle")
	}
	if !r.higherVersions {
		if !sameItems(find(next, "auth", "allow_higher_versions"), find(cur, "auth", "allow_higher_versions")) {
			return updErr(1129, "auth > allow_higher_versions")
		}
		if !sameItems(find(next, "remote", "agents", "allow_higher_versions"),
			find(cur, "remote", "agents", "allow_higher_versions")) {
			return updErr(1129, "remote > allow_higher_versions")
		}
	}
	if !r.vtPublicKeys {
		for _, in := range find(next, "integration") {
			if n := in.Kid("name"); n != nil && n.Text == "virustotal" && in.Kid("api_key") != nil {
				// Wazuh asks VirusTotal for the key's quota; muster never calls out.
				return updErr(1131, "muster does not query the VirusTotal API")
			}
		}
	}
	if !r.indexer && !sameItems(find(next, "indexer"), find(cur, "indexer")) {
		return updErr(1127, "indexer")
	}
	names := make([]string, 0, len(r.limits))
	for name := range r.limits {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !r.limits[name] && !sameItems(find(next, "global", "limits", name), find(cur, "global", "limits", name)) {
			return updErr(1127, "global > limits > "+name)
		}
	}
	return nil
}

// find returns the elements at a path of sections and children.
func find(f *config.OssecFile, path ...string) []*config.XMLNode {
	if f == nil {
		return nil
	}
	var nodes []*config.XMLNode
	for _, s := range f.Sections {
		if s.Tag == path[0] {
			nodes = append(nodes, s)
		}
	}
	for _, p := range path[1:] {
		var next []*config.XMLNode
		for _, n := range nodes {
			for _, k := range n.Kids {
				if k.Tag == p {
					next = append(next, k)
				}
			}
		}
		nodes = next
	}
	return nodes
}

// commandLocalfiles are the localfile sections that run a command not in
// the exceptions.
func commandLocalfiles(f *config.OssecFile, except []string) []*config.XMLNode {
	var out []*config.XMLNode
	for _, lf := range find(f, "localfile") {
		format, cmd := lf.Kid("log_format"), lf.Kid("command")
		if format != nil && (format.Text == "command" || format.Text == "full_command") &&
			(cmd == nil || !slices.Contains(except, cmd.Text)) {
			out = append(out, lf)
		}
	}
	return out
}

// commandWodles are the wodles with a command not in the exceptions.
func commandWodles(f *config.OssecFile, except []string) []*config.XMLNode {
	var out []*config.XMLNode
	for _, w := range find(f, "wodle") {
		if cmd := w.Kid("command"); cmd != nil && !slices.Contains(except, cmd.Text) {
			out = append(out, w)
		}
	}
	return out
}

// sameItems compares two lists of elements in order, each by content:
// children by tag (the last of a repeated tag, as Wazuh's comparison
// keeps), attributes and trimmed text, whatever their order or layout.
func sameItems(a, b []*config.XMLNode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if canonical(a[i]) != canonical(b[i]) {
			return false
		}
	}
	return true
}

func canonical(n *config.XMLNode) string {
	if len(n.Kids) == 0 {
		attrs := make([]string, 0, len(n.Attrs))
		for _, a := range n.Attrs {
			attrs = append(attrs, a.Name.Local+"="+a.Value)
		}
		sort.Strings(attrs)
		return "{" + strings.Join(attrs, ",") + "}" + n.Text
	}
	kids := map[string]string{}
	for _, k := range n.Kids {
		kids[k.Tag] = canonical(k)
	}
	keys := make([]string, 0, len(kids))
	for k := range kids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("(")
	for _, k := range keys {
		b.WriteString(k + ":" + kids[k] + ";")
	}
	b.WriteString(")")
	return b.String()
}
