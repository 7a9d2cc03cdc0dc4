package coverage

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Identifier kinds, strongest first: records are joined by the strongest
// identifier they share.
const (
	BySerial   = "serial"
	ByMAC      = "mac"
	ByHostname = "hostname"
)

// sharedIdentifierNames is how many different host names one source may
// report for a MAC or serial before it is taken for a shared adapter or a
// placeholder rather than one machine's.
const sharedIdentifierNames = 3

// ident is a record's normalised identifiers.
type ident struct {
	serial string
	macs   []string
	host   string
	ips    []string
}

func (id *ident) empty() bool { return id.serial == "" && len(id.macs) == 0 && id.host == "" }

// conflict is a join refused because the records it would join disagree.
type conflict struct {
	by, value string
	recs      []int32
}

// matching is the result of joining records into devices.
type matching struct {
	groups       [][]int32 // record indices per device, in device order
	joins        [][]Join  // per device
	conflicts    []conflict
	unidentified []int32
	notes        []string
}

// match joins records into devices: union by serial, then MAC, then host
// name; a union that would join two different serials is refused and kept
// as a conflict. recs[i].Source must be set; srcIndex maps it to its index.
func (m Matcher) match(recs []*Record, srcIndex map[string]int) matching {
	ids := make([]ident, len(recs))
	for i := range recs {
		r := recs[i]
		id := &ids[i]
		id.serial = m.Serial(r.Serial)
		for _, raw := range r.MACs {
			if mac := m.MAC(raw); mac != "" && !slices.Contains(id.macs, mac) {
				id.macs = append(id.macs, mac)
			}
		}
		id.host = m.Hostname(r.Hostname)
		for _, raw := range r.IPs {
			if ip := IP(raw); ip != "" && !slices.Contains(id.ips, ip) {
				id.ips = append(id.ips, ip)
			}
		}
	}
	var res matching
	res.notes = append(res.notes, dropShared(recs, ids, srcIndex)...)

	uf := newUnionFind(len(recs))
	for i := range ids {
		uf.serial[i] = ids[i].serial
	}
	// Joins in the order they were made (level, then value), each noted
	// with one of its records; resolved to devices at the end.
	type madeJoin struct {
		rec  int32
		join Join
	}
	// In chunks, so that a growing list is never copied.
	var made [][]madeJoin
	note := func(m madeJoin) {
		if len(made) == 0 || len(made[len(made)-1]) == cap(made[len(made)-1]) {
			made = append(made, make([]madeJoin, 0, 4096))
		}
		made[len(made)-1] = append(made[len(made)-1], m)
	}
	levels := []string{BySerial, ByMAC, ByHostname}
	var buf [1]string
	// The records sharing a value are chained through one slice rather
	// than held in a slice per value: most values belong to one record.
	type link struct{ rec, next int32 }
	var links []link
	for _, by := range levels {
		n := 0
		for i := range ids {
			n += len(ids[i].values(by, &buf))
		}
		// Sized once: growing a map of millions of values rehashes it a
		// dozen times, most of the matching's time at a million devices.
		links = slices.Grow(links[:0], n)
		head := make(map[string]int32, n)
		var values []string // those that at least two records have
		for i := range ids {
			for _, v := range ids[i].values(by, &buf) {
				prev, seen := head[v]
				if !seen {
					prev = -1
				} else if links[prev].next < 0 {
					values = append(values, v)
				}
				head[v] = int32(len(links))
				links = append(links, link{rec: int32(i), next: prev})
			}
		}
		sort.Strings(values)
		var rs []int32
		for _, v := range values {
			rs = rs[:0]
			for l := head[v]; l >= 0; l = links[l].next {
				rs = append(rs, links[l].rec)
			}
			slices.Reverse(rs) // record order
			roots := uf.roots(rs)
			if len(roots) < 2 {
				continue
			}
			if uf.serialsDisagree(roots) {
				res.conflicts = append(res.conflicts, conflict{by: by, value: v, recs: slices.Clone(rs)})
				continue
			}
			for _, r := range roots[1:] {
				uf.union(roots[0], r)
			}
			j := Join{By: by, Value: v, Records: make([]*Record, len(rs))}
			for k, ri := range rs {
				j.Records[k] = recs[ri]
			}
			if ips := sharedIPs(ids, rs); len(ips) > 0 {
				j.IPs = ips
			}
			note(madeJoin{rec: rs[0], join: j})
		}
	}

	byRoot := make(map[int32]int32, len(recs))
	for i := range recs {
		if ids[i].empty() {
			res.unidentified = append(res.unidentified, int32(i))
			continue
		}
		root := uf.find(int32(i))
		g, ok := byRoot[root]
		if !ok {
			g = int32(len(res.groups))
			byRoot[root] = g
			res.groups = append(res.groups, nil)
		}
		res.groups[g] = append(res.groups[g], int32(i))
	}
	// Each device's joins, in the order they were made, in one backing array.
	res.joins = make([][]Join, len(res.groups))
	count := make([]int32, len(res.groups))
	total := 0
	for _, chunk := range made {
		for _, m := range chunk {
			count[byRoot[uf.find(m.rec)]]++
		}
		total += len(chunk)
	}
	backing := make([]Join, 0, total)
	for g, n := range count {
		if n > 0 {
			res.joins[g] = backing[len(backing) : len(backing) : len(backing)+int(n)]
			backing = backing[:len(backing)+int(n)]
		}
	}
	for _, chunk := range made {
		for _, m := range chunk {
			g := byRoot[uf.find(m.rec)]
			res.joins[g] = append(res.joins[g], m.join)
		}
	}
	return res
}

// dropShared removes MACs and serials that one source reports for several
// different host names: they belong to a shared adapter or a placeholder.
func dropShared(recs []*Record, ids []ident, srcIndex map[string]int) []string {
	type key struct {
		src    int
		serial bool
		value  string
	}
	// names keeps up to sharedIdentifierNames different host names per value.
	type names struct {
		hosts [sharedIdentifierNames]string
		n     int
	}
	seen := make(map[key]names, len(ids))
	shared := map[key]bool{}
	add := func(k key, host string) {
		if host == "" {
			return
		}
		s := seen[k]
		if s.n == sharedIdentifierNames || slices.Contains(s.hosts[:s.n], host) {
			return
		}
		s.hosts[s.n] = host
		s.n++
		seen[k] = s
		if s.n == sharedIdentifierNames {
			shared[key{serial: k.serial, value: k.value}] = true
		}
	}
	for i := range ids {
		src := srcIndex[recs[i].Source]
		if ids[i].serial != "" {
			add(key{src, true, ids[i].serial}, ids[i].host)
		}
		for _, mac := range ids[i].macs {
			add(key{src, false, mac}, ids[i].host)
		}
	}
	if len(shared) == 0 {
		return nil
	}
	for i := range ids {
		if shared[key{serial: true, value: ids[i].serial}] {
			ids[i].serial = ""
		}
		ids[i].macs = slices.DeleteFunc(ids[i].macs, func(m string) bool { return shared[key{value: m}] })
	}
	var list []string
	for k := range shared {
		if k.serial {
			list = append(list, "serial "+k.value)
		} else {
			list = append(list, "MAC "+k.value)
		}
	}
	sort.Strings(list)
	more := ""
	if len(list) > 10 {
		more = fmt.Sprintf(" and %d more", len(list)-10)
		list = list[:10]
	}
	return []string{fmt.Sprintf("not used to join records, because one source reports each for %d or more different host names (a shared adapter or a placeholder): %s%s",
		sharedIdentifierNames, strings.Join(list, ", "), more)}
}

// sharedIPs lists the addresses every record of a join reports.
func sharedIPs(ids []ident, rs []int32) []string {
	var out []string
	for _, ip := range ids[rs[0]].ips {
		all := true
		for _, r := range rs[1:] {
			if !slices.Contains(ids[r].ips, ip) {
				all = false
				break
			}
		}
		if all {
			out = append(out, ip)
		}
	}
	return out
}

// values lists the record's identifiers of one kind; the one-value kinds
// are given in buf, so that listing them allocates nothing.
func (id *ident) values(by string, buf *[1]string) []string {
	switch by {
	case ByMAC:
		return id.macs
	case BySerial:
		buf[0] = id.serial
	default:
		buf[0] = id.host
	}
	if buf[0] == "" {
		return nil
	}
	return buf[:]
}

// unionFind joins records, keeping each set's serial number: a set holds
// at most one, because a union that would bring two together is refused.
type unionFind struct {
	parent []int32
	serial []string // per root
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), serial: make([]string, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int32) {
	a, b = u.find(a), u.find(b)
	if a == b {
		return
	}
	if b < a {
		a, b = b, a
	}
	u.parent[b] = a
	if u.serial[a] == "" {
		u.serial[a] = u.serial[b]
	}
}

// roots returns the distinct sets of rs, smallest root first.
func (u *unionFind) roots(rs []int32) []int32 {
	var out []int32
	for _, r := range rs {
		root := u.find(r)
		if !slices.Contains(out, root) {
			out = append(out, root)
		}
	}
	slices.Sort(out)
	return out
}

// serialsDisagree reports sets with different serial numbers: they are
// different machines whatever else they share.
func (u *unionFind) serialsDisagree(roots []int32) bool {
	first := ""
	for _, r := range roots {
		if v := u.serial[r]; v != "" {
			if first == "" {
				first = v
			} else if v != first {
				return true
			}
		}
	}
	return false
}
