package agentsim

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// A fleet file (`muster agent-sim --fleet FILE`) describes the agents one
// simulator plays, one entry per agent or per block of agents, in YAML or
// CSV (fleet_read.go). An entry's fields:
//
//	name       agent name; a block's name holds {n} or {n:03} (its number, zero-padded)
//	count      agents in the block (1); start: the first {n} (1)
//	id, key    the agent's client.keys id and key; else the key is taken from
//	           `keys` (matched by name, and by id when given) or enrolled
//	version    Wazuh version, "4.14.7" or "v4.14.7"
//	os         a preset ("ubuntu-22.04") or {base, sysname, kernel, build, arch, name, id, version}
//	groups     groups asked for at enrollment
//	labels     labels sent in every keepalive, in order; a key starting with ! is hidden
//	source     local address the agent connects from
//	keepalive  keepalive period (notify_time)
//	managers   the <server> list, "host" or "host:port", failed over in order
//	behaviour  active | silent after D | never connects | flapping [UP[/DOWN]]
//
// A field not given inherits the command line's flag.

// maxFleetAgents bounds a fleet file's agents (a typo in count must not
// exhaust memory); several simulators share larger fleets.
const maxFleetAgents = 100000

// Fleet is a parsed fleet file, its blocks expanded.
type Fleet struct {
	File   string // where it was read, for errors
	Keys   string // client.keys to take keys from (`keys:`), relative to the fleet file's folder
	Agents []FleetAgent
}

// FleetAgent is one agent of a fleet. Zero fields inherit the command line's
// value (Config), so a fleet file states only what differs.
type FleetAgent struct {
	Line      int    // line of its entry in the fleet file
	Name      string // agent name
	ID        string // client.keys id (%03d), or ""
	Key       string // raw client.keys key, or ""
	Version   string // "v4.14.7", or ""
	OS        *OS
	Groups    []string
	Labels    []Label
	Source    string // local IP address, or ""
	Keepalive time.Duration
	Managers  []string // "host" or "host:port"
	Behaviour Behaviour
}

// FleetError is a fleet-file mistake, with where it is.
type FleetError struct {
	File string
	Line int
	Msg  string
}

func (e *FleetError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// rawField is one field of an entry as read, before it is checked.
type rawField struct {
	line   int
	text   string   // a scalar
	list   []string // a YAML sequence
	isList bool
	labels []rawLabel // labels
}

type rawLabel struct {
	line       int
	key, value string
}

// rawEntry is an entry of the file: fields by their canonical name
// ("os.kernel" for YAML's os: {kernel: ...} and CSV's os_kernel).
type rawEntry struct {
	line   int
	fields map[string]rawField
}

// entryFields are the canonical field names of an agent entry.
var entryFields = map[string]bool{"name": true, "count": true, "start": true, "id": true, "key": true,
	"version": true, "os.base": true, "os.sysname": true, "os.kernel": true, "os.build": true, "os.arch": true,
	"os.name": true, "os.id": true, "os.version": true, "groups": true, "labels": true, "source": true,
	"keepalive": true, "managers": true, "behaviour": true}

// perAgentFields cannot be given in `defaults`.
var perAgentFields = map[string]bool{"name": true, "count": true, "start": true, "id": true, "key": true}

// LoadFleet reads a fleet file: CSV when its name ends in .csv, else YAML.
func LoadFleet(path string) (*Fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFleet(path, data)
	if err != nil {
		return nil, err
	}
	if f.Keys != "" && !filepath.IsAbs(f.Keys) {
		f.Keys = filepath.Join(filepath.Dir(path), f.Keys)
	}
	return f, nil
}

// ParseFleet parses a fleet file's content; name (for its format and the
// errors) is its path.
func ParseFleet(name string, data []byte) (*Fleet, error) {
	var (
		entries  []rawEntry
		defaults *rawEntry
		keys     string
		err      error
	)
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		entries, err = readFleetCSV(name, data)
	} else {
		entries, defaults, keys, err = readFleetYAML(name, data)
	}
	if err != nil {
		return nil, err
	}
	f := &Fleet{File: name, Keys: keys}
	names, ids := map[string]int{}, map[string]int{}
	for _, e := range entries {
		if defaults != nil {
			e = withDefaults(e, *defaults)
		}
		agents, err := buildEntry(name, e, maxFleetAgents-len(f.Agents))
		if err != nil {
			return nil, err
		}
		for _, a := range agents {
			if l, ok := names[a.Name]; ok {
				return nil, &FleetError{name, a.Line, fmt.Sprintf("duplicate agent name %q (also on line %d)", a.Name, l)}
			}
			names[a.Name] = a.Line
			if a.ID != "" {
				if l, ok := ids[a.ID]; ok {
					return nil, &FleetError{name, a.Line, fmt.Sprintf("duplicate agent id %s (also on line %d)", a.ID, l)}
				}
				ids[a.ID] = a.Line
			}
		}
		f.Agents = append(f.Agents, agents...)
	}
	if len(f.Agents) == 0 {
		return nil, &FleetError{File: name, Msg: "no agents"}
	}
	return f, nil
}

// withDefaults fills the fields e does not give from d; the os fields go
// together (an entry naming any of them names its whole OS).
func withDefaults(e, d rawEntry) rawEntry {
	out := rawEntry{line: e.line, fields: map[string]rawField{}}
	hasOS := false
	for k, v := range e.fields {
		out.fields[k] = v
		hasOS = hasOS || strings.HasPrefix(k, "os.")
	}
	for k, v := range d.fields {
		if _, ok := out.fields[k]; ok || (hasOS && strings.HasPrefix(k, "os.")) {
			continue
		}
		out.fields[k] = v
	}
	return out
}

var (
	versionRE     = regexp.MustCompile(`^v?[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$`)
	placeholderRE = regexp.MustCompile(`\{n(?::(0?[1-9]))?\}`)
)

// buildEntry checks an entry and expands it into its agents, at most room.
func buildEntry(file string, e rawEntry, room int) ([]FleetAgent, error) {
	fail := func(field, format string, args ...any) error {
		line := e.line
		if f, ok := e.fields[field]; ok && f.line > 0 {
			line = f.line
		}
		return &FleetError{file, line, field + ": " + fmt.Sprintf(format, args...)}
	}
	for k, f := range e.fields {
		if f.isList && k != "groups" && k != "managers" {
			return nil, fail(k, "a single value is expected, not a list")
		}
	}
	text := func(k string) string { return strings.TrimSpace(e.fields[k].text) }
	number := func(k string, def, lo, hi int) (int, error) {
		if _, ok := e.fields[k]; !ok {
			return def, nil
		}
		n, err := strconv.Atoi(text(k))
		if err != nil || n < lo || n > hi {
			return 0, fail(k, "%q is not a whole number from %d to %d", text(k), lo, hi)
		}
		return n, nil
	}
	count, err := number("count", 1, 1, maxFleetAgents)
	if err != nil {
		return nil, err
	}
	if count > room {
		return nil, &FleetError{file, e.line, fmt.Sprintf("more than %d agents in one fleet file", maxFleetAgents)}
	}
	start, err := number("start", 1, 0, 99999999)
	if err != nil {
		return nil, err
	}
	var t FleetAgent
	t.Line = e.line
	pattern := text("name")
	if pattern == "" {
		return nil, fail("name", "every agent needs a name")
	}
	if count > 1 && !placeholderRE.MatchString(pattern) {
		return nil, fail("name", "a block of %d agents needs {n} in its name (%q would repeat)", count, pattern)
	}
	idPattern := text("id")
	if idPattern != "" && count > 1 && !placeholderRE.MatchString(idPattern) {
		return nil, fail("id", "a block of %d agents needs {n} in its id", count)
	}
	t.Key = text("key")
	if t.Key != "" {
		if count > 1 {
			return nil, fail("key", "a block of %d agents cannot share one key: give keys: <client.keys>", count)
		}
		if idPattern == "" {
			return nil, fail("key", "a key needs the agent's id")
		}
	}
	if v := text("version"); v != "" {
		if !versionRE.MatchString(v) {
			return nil, fail("version", "%q is not a Wazuh version such as 4.14.7", v)
		}
		t.Version = "v" + strings.TrimPrefix(v, "v")
	}
	if t.OS, err = buildOS(e, fail); err != nil {
		return nil, err
	}
	if g, ok := e.fields["groups"]; ok {
		t.Groups = splitList(g)
		if len(t.Groups) > agentproto.MaxGroupsPerAgent {
			return nil, fail("groups", "more than %d groups", agentproto.MaxGroupsPerAgent)
		}
		for _, n := range t.Groups {
			if len(n) > agentproto.MaxGroupName || agentproto.ValidateGroups([]string{n}, nil) != nil {
				return nil, fail("groups", "%q is not a group name (letters, digits, '.', '_', '-')", n)
			}
		}
	}
	seenLabel := map[string]bool{}
	for _, l := range e.fields["labels"].labels {
		lb := Label{Key: l.key, Value: l.value}
		if seenLabel[l.key] {
			return nil, &FleetError{file, max(l.line, e.line), fmt.Sprintf("labels: %q given twice", l.key)}
		}
		seenLabel[l.key] = true
		if k, ok := strings.CutPrefix(l.key, "!"); ok {
			lb.Key, lb.Hidden = k, true
		}
		if lb.Key == "" || strings.Contains(lb.Key, `"`) || !validLabelText(lb.Key) || !validLabelText(lb.Value) {
			return nil, &FleetError{file, max(l.line, e.line), fmt.Sprintf("labels: %q is not a label "+
				"(a key without quotes, values on one line)", l.key)}
		}
		t.Labels = append(t.Labels, lb)
	}
	if s := text("source"); s != "" {
		if net.ParseIP(s) == nil {
			return nil, fail("source", "%q is not an IP address", s)
		}
		t.Source = s
	}
	if _, ok := e.fields["keepalive"]; ok {
		d, err := time.ParseDuration(text("keepalive"))
		if err != nil || d <= 0 {
			return nil, fail("keepalive", "%q is not a positive duration such as 20s", text("keepalive"))
		}
		t.Keepalive = d
	}
	if m, ok := e.fields["managers"]; ok {
		t.Managers = splitList(m)
		if len(t.Managers) == 0 {
			return nil, fail("managers", "the list is empty")
		}
		for _, s := range t.Managers {
			if !validManager(s) {
				return nil, fail("managers", "%q is not host or host:port", s)
			}
		}
	}
	if _, ok := e.fields["behaviour"]; ok {
		if t.Behaviour, err = ParseBehaviour(text("behaviour")); err != nil {
			return nil, fail("behaviour", "%s", strings.TrimPrefix(err.Error(), "behaviour "))
		}
	}
	out := make([]FleetAgent, 0, count)
	for i := 0; i < count; i++ {
		a := t
		n := start + i
		a.Name = expandN(pattern, n)
		if !agentproto.ValidAgentName(a.Name) {
			return nil, fail("name", "%q is not an agent name (2 to 128 of letters, digits, '.', '_', '-')", a.Name)
		}
		if idPattern != "" {
			id := expandN(idPattern, n)
			v, err := strconv.Atoi(id)
			if err != nil || v <= 0 || v > 99999999 || strings.Trim(id, "0123456789") != "" {
				return nil, fail("id", "%q is not an agent id (a number from 1; 000 is the manager)", id)
			}
			a.ID = agentproto.FormatAgentID(v)
		}
		if a.Key != "" {
			if _, _, err := agentproto.ParseKeyLine(a.ID + " " + a.Name + " any " + a.Key); err != nil {
				return nil, fail("key", "not a client.keys key: %v", err)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// buildOS reads the os fields: a preset (os.base), possibly with fields
// changed, or every field given.
func buildOS(e rawEntry, fail func(string, string, ...any) error) (*OS, error) {
	get := func(k string) (string, bool) {
		f, ok := e.fields["os."+k]
		return strings.TrimSpace(f.text), ok
	}
	var o OS
	set := false
	if b, ok := get("base"); ok {
		p, found := osPresets[strings.ToLower(b)]
		if !found {
			return nil, fail("os.base", "unknown OS %q (presets: %s; or give name, id and version)", b,
				strings.Join(OSPresets(), ", "))
		}
		o, set = p, true
	}
	for k, dst := range map[string]*string{"sysname": &o.Sysname, "kernel": &o.Kernel, "build": &o.Build,
		"arch": &o.Arch, "name": &o.Name, "id": &o.ID, "version": &o.Version} {
		if v, ok := get(k); ok {
			if !validLabelText(v) || strings.ContainsAny(v, "|[]") {
				return nil, fail("os."+k, "%q cannot be sent in a uname (no '|', '[', ']' or line breaks)", v)
			}
			*dst, set = v, true
		}
	}
	if !set {
		return nil, nil
	}
	if _, base := get("base"); !base {
		if o.Name == "" || o.ID == "" || o.Version == "" {
			return nil, fail("os.name", "an OS without a base needs at least name, id and version")
		}
		if o.Sysname == "" {
			o.Sysname = "Linux"
		}
		if o.Arch == "" {
			o.Arch = "x86_64"
		}
	}
	o.ID = strings.ToLower(o.ID)
	return &o, nil
}

// splitList reads a list field: a YAML sequence, or text separated by
// commas or semicolons.
func splitList(f rawField) []string {
	items := f.list
	if !f.isList {
		items = strings.FieldsFunc(f.text, func(r rune) bool { return r == ',' || r == ';' })
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validManager accepts "host" and "host:port".
func validManager(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t/") {
		return false
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		return h != "" && err == nil && n > 0 && n < 65536
	}
	return !strings.ContainsAny(s, "[]") && (strings.Count(s, ":") == 0 || net.ParseIP(s) != nil)
}

// expandN replaces {n} and {n:0W} in s with n (zero-padded to W digits).
func expandN(s string, n int) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		w := placeholderRE.FindStringSubmatch(m)[1]
		if w == "" {
			return strconv.Itoa(n)
		}
		width, _ := strconv.Atoi(w)
		return fmt.Sprintf("%0*d", width, n)
	})
}
