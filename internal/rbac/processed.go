package rbac

import "github.com/muster-project/muster/internal/pyjson"

// ResourceEffect is one processed resource of an action with its effect string as stored.
type ResourceEffect struct {
	Resource string
	Effect   string
}

// ActionPolicies is one action of the processed policies with its resources in processing order.
type ActionPolicies struct {
	Action    string
	Resources []ResourceEffect
}

// ProcessedPolicies is what GET /security/users/me/policies returns: the actions in processing order, each
// mapping its resources to "allow"/"deny", followed by "rbac_mode".
type ProcessedPolicies struct {
	Actions []ActionPolicies
	Mode    Mode
}

// Processed returns the processed policies in Wazuh's order. The result is a fresh copy.
func (p *Permissions) Processed() ProcessedPolicies {
	out := ProcessedPolicies{Mode: p.mode, Actions: make([]ActionPolicies, 0, len(p.order))}
	for _, name := range p.order {
		res := append([]ResourceEffect{}, p.actions[name].resources...)
		out.Actions = append(out.Actions, ActionPolicies{Action: name, Resources: res})
	}
	return out
}

// MarshalJSON renders the object compactly with Wazuh's key order and Python's ensure_ascii escaping.
func (pp ProcessedPolicies) MarshalJSON() ([]byte, error) { return pp.appendJSON(nil, false), nil }

// PythonJSON renders the object exactly as Python's json.dumps does with its default separators
// (", " and ": "), the form Wazuh puts on the wire.
func (pp ProcessedPolicies) PythonJSON() []byte { return pp.appendJSON(nil, true) }

func (pp ProcessedPolicies) appendJSON(b []byte, spaced bool) []byte {
	w := jsonWriter{b: b, spaced: spaced}
	w.open('{')
	modeWritten := false
	for _, a := range pp.Actions {
		w.key(a.Action)
		if a.Action == "rbac_mode" { // a Python dict assignment replaces the value in place
			w.str(string(pp.Mode))
			modeWritten = true
			continue
		}
		w.open('{')
		for _, r := range a.Resources {
			w.key(r.Resource)
			w.str(r.Effect)
		}
		w.close('}')
	}
	if !modeWritten {
		w.key("rbac_mode")
		w.str(string(pp.Mode))
	}
	w.close('}')
	return w.b
}

// jsonWriter appends JSON with Python json.dumps conventions: ensure_ascii escaping, no HTML escaping, and
// either compact or Python's default separators.
type jsonWriter struct {
	b      []byte
	spaced bool
	first  []bool
}

func (w *jsonWriter) open(c byte) {
	w.sep()
	w.b = append(w.b, c)
	w.first = append(w.first, true)
}

func (w *jsonWriter) close(c byte) {
	w.first = w.first[:len(w.first)-1]
	w.b = append(w.b, c)
}

// sep writes the item separator before a value that is not the first of its container; values following a
// key are marked as first by key.
func (w *jsonWriter) sep() {
	if n := len(w.first); n > 0 {
		if !w.first[n-1] {
			w.b = append(w.b, ',')
			if w.spaced {
				w.b = append(w.b, ' ')
			}
		}
		w.first[n-1] = false
	}
}

func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = pyjson.AppendString(w.b, k)
	w.b = append(w.b, ':')
	if w.spaced {
		w.b = append(w.b, ' ')
	}
	w.first[len(w.first)-1] = true
}

func (w *jsonWriter) str(s string) {
	w.sep()
	w.b = pyjson.AppendString(w.b, s)
}

func (w *jsonWriter) strs(list []string) {
	w.open('[')
	for _, s := range list {
		w.str(s)
	}
	w.close(']')
}
