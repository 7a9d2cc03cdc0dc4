package scan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
)

// Class is an agent's connection class; every agent has exactly one.
type Class string

// Connection classes, in the order reports list them.
const (
	ClassActive         Class = "active"          // active, keepalive within StaleAfter
	ClassStale          Class = "stale"           // reported active, but silent for longer than StaleAfter
	ClassPending        Class = "pending"         // handshake started, no full keepalive yet
	ClassDisconnected   Class = "disconnected"    // the manager marked it disconnected
	ClassNeverConnected Class = "never_connected" // registered, never connected
	ClassUnknown        Class = "unknown"         // a status this scanner does not know
)

// Classes lists every class in report order.
var Classes = []Class{ClassActive, ClassStale, ClassPending, ClassDisconnected, ClassNeverConnected, ClassUnknown}

// Finding is a problem an agent has; an agent can have several.
type Finding string

// Findings, in the order reports list them.
const (
	FindStale          Finding = "stale"             // class stale
	FindPending        Finding = "pending"           // pending for longer than StaleAfter
	FindDisconnected   Finding = "disconnected"      // class disconnected
	FindNeverConnected Finding = "never_connected"   // never connected, registered longer than NeverConnectedGrace ago
	FindOutdated       Finding = "outdated"          // agent version behind the manager's
	FindNotSynced      Finding = "config_not_synced" // connected, group_config_status "not synced"
	FindDuplicateName  Finding = "duplicate_name"    // another agent has the same name
	FindDuplicateIP    Finding = "duplicate_ip"      // another agent has the same IP
	FindUnknownStatus  Finding = "unknown_status"    // class unknown
)

// Findings lists every finding in report order.
var Findings = []Finding{FindStale, FindPending, FindDisconnected, FindNeverConnected, FindOutdated,
	FindNotSynced, FindDuplicateName, FindDuplicateIP, FindUnknownStatus}

// findingSet is a bit set over Findings.
type findingSet uint16

func (s findingSet) has(f Finding) bool { return s&bit(f) != 0 }

func bit(f Finding) findingSet {
	for i, g := range Findings {
		if g == f {
			return 1 << i
		}
	}
	panic("scan: unknown finding " + string(f))
}

// list returns the findings of the set in report order.
func (s findingSet) list() []Finding {
	out := []Finding{}
	for i, f := range Findings {
		if s&(1<<i) != 0 {
			out = append(out, f)
		}
	}
	return out
}

// Version is a Wazuh version as major, minor, patch; the zero Version is unknown.
type Version [3]int

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseVersion reads "Wazuh v4.14.7", "v4.14.7" or "4.14.7"; it returns the zero Version for anything else.
func ParseVersion(s string) Version {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}
	}
	var v Version
	for i := range 3 {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v
}

// IsZero reports whether the version is unknown.
func (v Version) IsZero() bool { return v == Version{} }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	for i := range 3 {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

func (v Version) String() string {
	if v.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
}

// Rules are what classification compares agents with.
type Rules struct {
	Now                 time.Time       // the reference instant, on the manager's clock
	StaleAfter          time.Duration   // an active agent silent for longer is stale
	NeverConnectedGrace time.Duration   // a never-connected agent registered longer ago is a finding
	Buckets             []time.Duration // ascending upper bounds of the age buckets
	ManagerVersion      Version         // zero: outdated is not evaluated
}

// entry is the compact row kept for every agent: what the report needs, no more.
type entry struct {
	id, name, ip   string
	status         string // as reported; interned
	version        string // interned
	node, groups   string // interned
	class          Class
	findings       findingSet
	age            time.Duration // keepalive age, or registration age for never_connected; -1 unknown
	bucket         int8          // index into the bucket labels; -1 none
	code           int8
	keepaliveKnown bool
}

// classify applies the rules to one agent (docs/scanner.md, "Classification").
func (r *Rules) classify(a *client.Agent) entry {
	e := entry{id: a.ID, name: a.Name, ip: a.IP, status: a.Status, version: a.Version, node: a.NodeName,
		groups: strings.Join(a.Group, ","), code: int8(a.StatusCode), bucket: -1}
	ka := r.age(a.LastKeepAlive.Time)
	e.keepaliveKnown = ka >= 0
	e.age = ka
	switch a.Status {
	case client.StatusActive:
		e.class = ClassActive
		if ka < 0 || ka > r.StaleAfter {
			e.class, e.findings = ClassStale, bit(FindStale)
		}
	case client.StatusPending:
		e.class = ClassPending
		if ka < 0 {
			e.age = r.age(a.DateAdd.Time)
		}
		if e.age < 0 || e.age > r.StaleAfter {
			e.findings |= bit(FindPending)
		}
	case client.StatusDisconnected:
		e.class, e.findings = ClassDisconnected, bit(FindDisconnected)
		if ka < 0 {
			e.age = r.age(a.DisconnectionTime.Time)
		}
		e.bucket = r.bucket(e.age)
	case client.StatusNeverConnected:
		e.class = ClassNeverConnected
		e.age = r.age(a.DateAdd.Time)
		e.bucket = r.bucket(e.age)
		if e.age < 0 || e.age > r.NeverConnectedGrace {
			e.findings |= bit(FindNeverConnected)
		}
	default:
		e.class, e.findings = ClassUnknown, bit(FindUnknownStatus)
	}
	if !r.ManagerVersion.IsZero() {
		if v := ParseVersion(a.Version); !v.IsZero() && v.Less(r.ManagerVersion) {
			e.findings |= bit(FindOutdated)
		}
	}
	if (e.class == ClassActive || e.class == ClassStale) && a.GroupConfigStatus == "not synced" {
		e.findings |= bit(FindNotSynced)
	}
	return e
}

// age is how long ago t was, never negative; -1 when t is unknown.
func (r *Rules) age(t time.Time) time.Duration {
	if t.IsZero() {
		return -1
	}
	return max(r.Now.Sub(t), 0)
}

// bucket returns the index of the age bucket of d, or -1 when d is unknown.
func (r *Rules) bucket(d time.Duration) int8 {
	if d < 0 {
		return -1
	}
	for i, b := range r.Buckets {
		if d < b {
			return int8(i)
		}
	}
	return int8(len(r.Buckets))
}

// BucketLabels names the buckets of bounds: "<24h", "24h-72h", ..., ">=30d".
func BucketLabels(bounds []time.Duration) []string {
	out := make([]string, 0, len(bounds)+1)
	for i, b := range bounds {
		if i == 0 {
			out = append(out, "<"+FormatAge(b))
			continue
		}
		out = append(out, FormatAge(bounds[i-1])+"-"+FormatAge(b))
	}
	if len(bounds) == 0 {
		return []string{"any"}
	}
	return append(out, ">="+FormatAge(bounds[len(bounds)-1]))
}

// FormatAge writes a duration the short way people read ages: 45s, 12m, 3h20m, 2d4h, 30d.
func FormatAge(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	const day = 24 * time.Hour
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		m, s := d/time.Minute, (d%time.Minute)/time.Second
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d < day:
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	case d < 3*day && d%day != 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	dd, h := d/day, (d%day)/time.Hour
	if h == 0 {
		return fmt.Sprintf("%dd", dd)
	}
	return fmt.Sprintf("%dd%dh", dd, h)
}

// statusReasons explains Wazuh's status_code values.
var statusReasons = map[int8]string{
	1: "version rejected: newer than the manager",
	2: "version unreadable in the startup message",
	3: "agent shut down",
	4: "no keepalive: timed out",
	5: "manager restarted",
}

// reason explains an entry's status code.
func (e *entry) reason() string {
	if s, ok := statusReasons[e.code]; ok {
		return s
	}
	if e.code != 0 {
		return "status code " + strconv.Itoa(int(e.code))
	}
	return ""
}
