package scan

import (
	"slices"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
)

// Report is the result of one scan. Its exported fields are its JSON form.
type Report struct {
	URL            string          `json:"url"`
	StartedAt      time.Time       `json:"started_at"`
	Duration       float64         `json:"duration_seconds"`
	Logins         int64           `json:"logins"`
	Settings       Settings        `json:"settings"`
	Total          int             `json:"agents_total"`
	Healthy        int             `json:"agents_healthy"`
	Classes        map[Class]int   `json:"classes"`
	Findings       map[Finding]int `json:"findings"`
	Disconnected   []BucketCount   `json:"disconnected_by_age"`
	NeverConnected []BucketCount   `json:"never_connected_by_registration_age"`
	Duplicates     []Duplicate     `json:"duplicates"`
	Notes          []string        `json:"notes"`
	Breaches       []Breach        `json:"breaches"`
	ExitCode       int             `json:"exit_code"`
	Agents         []AgentRow      `json:"agents"`

	entries []entry
	labels  []string
}

// BucketCount is how many agents fall in one age bucket.
type BucketCount struct {
	Bucket string `json:"bucket"`
	Agents int    `json:"agents"`
}

// Duplicate is a name or IP shared by several agents.
type Duplicate struct {
	Kind  string   `json:"kind"` // "name" or "ip"
	Value string   `json:"value"`
	IDs   []string `json:"ids"`
}

// AgentRow is one agent in a report's agent list.
type AgentRow struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	IP         string    `json:"ip,omitempty"`
	Status     string    `json:"status"`
	Class      Class     `json:"class"`
	Findings   []Finding `json:"findings"`
	AgeSeconds int64     `json:"age_seconds"` // keepalive age; registration age for never_connected; -1 unknown
	Bucket     string    `json:"age_bucket,omitempty"`
	Version    string    `json:"version,omitempty"`
	StatusCode int       `json:"status_code"`
	Reason     string    `json:"reason,omitempty"`
	Node       string    `json:"node,omitempty"`
	Groups     string    `json:"groups,omitempty"`
}

// builder accumulates compact entries while the agents stream past.
type builder struct {
	rules   Rules
	entries []entry
	names   map[string]int32
	ips     map[string]int32
	intern  map[string]string
	seen    int // records received, the manager's included
}

func newBuilder(r Rules) *builder {
	return &builder{rules: r, names: map[string]int32{}, ips: map[string]int32{}, intern: map[string]string{}}
}

// add classifies one agent; agent 000 (the manager itself) is left out.
func (b *builder) add(a *client.Agent) {
	b.seen++
	if a.ID == "000" {
		return
	}
	e := b.rules.classify(a)
	e.status, e.version = b.in(e.status), b.in(e.version)
	e.node, e.groups = b.in(e.node), b.in(e.groups)
	if e.name != "" {
		b.names[e.name]++
	}
	if countableIP(e.ip) {
		b.ips[e.ip]++
	}
	b.entries = append(b.entries, e)
}

// in interns strings that repeat across agents (versions, nodes, groups).
func (b *builder) in(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := b.intern[s]; ok {
		return v
	}
	if len(b.intern) < 4096 {
		b.intern[s] = s
	}
	return s
}

// countableIP leaves out addresses many agents legitimately share in the
// registry: "any", networks and the empty value.
func countableIP(ip string) bool {
	return ip != "" && !strings.EqualFold(ip, "any") && !strings.Contains(ip, "/")
}

// finish marks duplicates and builds the report; all lists agents without findings too.
func (b *builder) finish(all bool) *Report {
	r := &Report{Classes: map[Class]int{}, Findings: map[Finding]int{}, Notes: []string{}, Breaches: []Breach{},
		Duplicates: []Duplicate{}, labels: BucketLabels(b.rules.Buckets)}
	for _, c := range Classes {
		r.Classes[c] = 0
	}
	for _, f := range Findings {
		r.Findings[f] = 0
	}
	disc := make([]int, len(r.labels))
	never := make([]int, len(r.labels))
	dupNames, dupIPs := map[string][]string{}, map[string][]string{}
	for i := range b.entries {
		e := &b.entries[i]
		if b.names[e.name] > 1 {
			e.findings |= bit(FindDuplicateName)
			dupNames[e.name] = append(dupNames[e.name], e.id)
		}
		if countableIP(e.ip) && b.ips[e.ip] > 1 {
			e.findings |= bit(FindDuplicateIP)
			dupIPs[e.ip] = append(dupIPs[e.ip], e.id)
		}
		r.Total++
		r.Classes[e.class]++
		if e.findings == 0 {
			r.Healthy++
		}
		for _, f := range e.findings.list() {
			r.Findings[f]++
		}
		if e.bucket >= 0 {
			switch e.class {
			case ClassDisconnected:
				disc[e.bucket]++
			case ClassNeverConnected:
				never[e.bucket]++
			}
		}
		if all || e.findings != 0 {
			r.Agents = append(r.Agents, e.row(r.labels))
		}
	}
	for i, l := range r.labels {
		r.Disconnected = append(r.Disconnected, BucketCount{l, disc[i]})
		r.NeverConnected = append(r.NeverConnected, BucketCount{l, never[i]})
	}
	r.Duplicates = append(duplicates("name", dupNames), duplicates("ip", dupIPs)...)
	if r.Agents == nil {
		r.Agents = []AgentRow{}
	}
	r.entries = b.entries
	return r
}

// duplicates lists the groups of one kind sorted by value.
func duplicates(kind string, m map[string][]string) []Duplicate {
	out := make([]Duplicate, 0, len(m))
	for v, ids := range m {
		out = append(out, Duplicate{Kind: kind, Value: v, IDs: ids})
	}
	slices.SortFunc(out, func(a, b Duplicate) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// row renders an entry for output.
func (e *entry) row(labels []string) AgentRow {
	row := AgentRow{ID: e.id, Name: e.name, IP: e.ip, Status: e.status, Class: e.class,
		Findings: e.findings.list(), AgeSeconds: -1, Version: e.version, StatusCode: int(e.code),
		Reason: e.reason(), Node: e.node, Groups: e.groups}
	if e.age >= 0 {
		row.AgeSeconds = int64(e.age / time.Second)
	}
	if e.bucket >= 0 && int(e.bucket) < len(labels) {
		row.Bucket = labels[e.bucket]
	}
	return row
}
