package coverage

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// reconcile turns the records of the sources that answered into devices,
// findings, requirement results and the matrix. status lists every
// configured source in config order; records holds the records of the "ok"
// ones. Findings that rest on an unavailable source are not made.
func (p *Plan) reconcile(r *Report, records [][]Record) {
	srcIndex := map[string]int{}
	ok := make([]bool, len(r.Sources))
	allOK := true
	for i, s := range r.Sources {
		srcIndex[s.Name] = i
		ok[i] = s.Status == SourceOK
		allOK = allOK && ok[i]
	}
	total := 0
	for _, rs := range records {
		total += len(rs)
	}
	// Records are used where the connectors left them: a device holds
	// pointers, so that 100,000 devices do not cost copies of their records.
	recs := make([]*Record, 0, total)
	for _, rs := range records {
		for i := range rs {
			recs = append(recs, &rs[i])
		}
	}
	mt := p.Match.match(recs, srcIndex)
	r.Notes = append(r.Notes, mt.notes...)

	// Devices, with a stable id derived from their strongest identifier.
	devOf := make([]int32, len(recs))
	for i := range devOf {
		devOf[i] = -1
	}
	r.Devices = make([]Device, len(mt.groups))
	used := make(map[string]int, len(mt.groups))
	backing := make([]*Record, total-len(mt.unidentified))
	for g, members := range mt.groups {
		d := &r.Devices[g]
		d.Records, backing = backing[:len(members):len(members)], backing[len(members):]
		for k, ri := range members {
			d.Records[k] = recs[ri]
			devOf[ri] = int32(g)
		}
		sort.SliceStable(d.Records, func(a, b int) bool {
			return srcIndex[d.Records[a].Source] < srcIndex[d.Records[b].Source]
		})
		d.ID = p.Match.deviceID(d.Records)
		if n := used[d.ID]; n > 0 {
			used[d.ID] = n + 1
			d.ID = fmt.Sprintf("%s#%d", d.ID, n+1)
		} else {
			used[d.ID] = 1
		}
		d.Name = deviceName(d.Records)
		d.Joins = mt.joins[g]
		if d.Joins == nil {
			d.Joins = []Join{}
		}
	}
	order := make([]int, len(r.Devices))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return r.Devices[order[a]].ID < r.Devices[order[b]].ID })

	// Per source: devices known, unidentified records.
	for i := range r.Devices {
		for _, src := range deviceSources(&r.Devices[i]) {
			r.Sources[srcIndex[src]].Devices++
		}
	}
	for _, ri := range mt.unidentified {
		r.Sources[srcIndex[recs[ri].Source]].Unidentified++
	}

	f := &findings{}
	conflicted := map[int32]bool{}
	for _, c := range mt.conflicts {
		var devs []string
		var ev []Evidence
		var srcs []string
		for _, ri := range c.recs {
			g := devOf[ri]
			if g < 0 {
				continue
			}
			conflicted[g] = true
			if id := r.Devices[g].ID; !slices.Contains(devs, id) {
				devs = append(devs, id)
			}
			ev = append(ev, evidence(recs[ri]))
			if !slices.Contains(srcs, recs[ri].Source) {
				srcs = append(srcs, recs[ri].Source)
			}
		}
		sort.Strings(devs)
		f.add(Finding{Key: KindIdentityConflict + "|" + c.by + ":" + c.value, Kind: KindIdentityConflict,
			Device: devs[0], Name: c.value, Sources: srcs, Evidence: ev,
			Message: fmt.Sprintf("%d records share %s %s but belong to machines with different serial numbers (%s); they were not joined, and these devices are left out of the requirements until the records agree",
				len(c.recs), c.by, c.value, strings.Join(devs, ", "))})
	}
	for _, ri := range mt.unidentified {
		rec := recs[ri]
		f.add(Finding{Key: KindUnidentified + "|" + rec.Source + "|" + rec.ID, Kind: KindUnidentified,
			Name: rec.ID, Sources: []string{rec.Source}, Evidence: []Evidence{evidence(rec)},
			Message: fmt.Sprintf("record %s of %s has no serial number, usable MAC address or host name: it cannot be matched with any other source", rec.ID, rec.Source)})
	}

	agentSources := map[string]bool{}
	for _, q := range p.Requirements {
		for _, m := range q.MustHave {
			agentSources[m] = true
		}
	}
	results := make([]RequirementResult, len(p.Requirements))
	for qi, q := range p.Requirements {
		results[qi] = RequirementResult{Index: q.Index, Scope: q.Scope, MustHave: q.MustHave, Filter: q.Filter(), Ratio: 1}
		for _, n := range append(slices.Clip(q.Scope), q.MustHave...) {
			if s := r.Sources[srcIndex[n]]; s.Status != SourceOK {
				results[qi].Skipped = fmt.Sprintf("source %s is unavailable (%s)", n, s.Reason)
				break
			}
		}
	}
	leftOut := 0
	for _, g := range order {
		d := &r.Devices[g]
		srcs := deviceSources(d)
		p.deviceFindings(f, d, srcs, allOK && !conflicted[int32(g)], agentSources)
		if conflicted[int32(g)] {
			leftOut++
			continue
		}
		for qi, q := range p.Requirements {
			res := &results[qi]
			if res.Skipped != "" || !q.covers(d, srcs) {
				continue
			}
			res.InScope++
			covered := true
			for _, m := range q.MustHave {
				if !p.mustHave(f, d, srcs, q, m) {
					covered = false
				}
			}
			if covered {
				res.Covered++
			}
		}
	}
	if leftOut > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d devices were left out of the requirements because their records conflict (see identity_conflict)", leftOut))
	}
	for i := range results {
		if results[i].InScope > 0 {
			results[i].Ratio = float64(results[i].Covered) / float64(results[i].InScope)
		}
	}
	r.Requirements = results
	r.Findings = f.sorted()
	r.Matrix = matrix(r.Sources, r.Devices, srcIndex)
}

// deviceFindings adds the findings about one device that no requirement
// decides: duplicates, host name disagreements, orphans, stale everywhere.
func (p *Plan) deviceFindings(f *findings, d *Device, srcs []string, allOK bool, agentSources map[string]bool) {
	for _, s := range srcs {
		var ev []Evidence
		for i := range d.Records {
			if d.Records[i].Source == s {
				ev = append(ev, evidence(d.Records[i]))
			}
		}
		if len(ev) > 1 {
			f.add(Finding{Key: KindDuplicate + "|" + d.ID + "|" + s, Kind: KindDuplicate, Device: d.ID, Name: d.Name,
				Sources: []string{s}, Evidence: ev,
				Message: fmt.Sprintf("%s has %d records for this machine (a reinstalled agent or a cloned image): %s", s, len(ev), refs(ev))})
		}
	}
	if names := p.hostnames(d); len(srcs) > 1 && len(names) > 1 {
		var ev []Evidence
		var from []string
		for i := range d.Records {
			if p.Match.Hostname(d.Records[i].Hostname) != "" {
				ev = append(ev, evidence(d.Records[i]))
				if !slices.Contains(from, d.Records[i].Source) {
					from = append(from, d.Records[i].Source)
				}
			}
		}
		if len(from) > 1 {
			f.add(Finding{Key: KindIdentityConflict + "|" + d.ID + "|hostname", Kind: KindIdentityConflict, Device: d.ID, Name: d.Name,
				Sources: from, Evidence: ev,
				Message: fmt.Sprintf("joined by %s, but the records name the machine differently: %s (a renamed host, or a reused address)",
					joinedBy(d), strings.Join(names, ", "))})
		}
	}
	if len(srcs) == 1 && allOK && len(p.Sources) > 1 && agentSources[srcs[0]] {
		f.add(Finding{Key: KindOrphan + "|" + d.ID + "|" + srcs[0], Kind: KindOrphan, Device: d.ID, Name: d.Name,
			Sources: p.sourceNames(), Evidence: allEvidence(d),
			Message: fmt.Sprintf("only %s knows this machine: no other source lists it (decommissioned, renamed, or a clone)", srcs[0])})
	}
	if allOK {
		tracked, recent := false, false
		for i := range d.Records {
			if !d.Records[i].LastSeen.IsZero() {
				tracked = true
				recent = recent || p.withinWindow(d.Records[i])
			}
		}
		if tracked && !recent {
			f.add(Finding{Key: KindStaleEverywhere + "|" + d.ID, Kind: KindStaleEverywhere, Device: d.ID, Name: d.Name,
				Sources: p.sourceNames(), Evidence: allEvidence(d),
				Message: fmt.Sprintf("no source has seen this machine within the window (%s); last seen %s",
					shortDuration(p.Window), lastSeen(d).UTC().Format(time.RFC3339))})
		}
	}
}

// mustHave checks one must_have source for an in-scope device; it reports
// whether the device is covered there, adding missing_agent or
// silent_failure when it is not.
func (p *Plan) mustHave(f *findings, d *Device, srcs []string, q Requirement, m string) bool {
	req := q.Index
	var agent *Record
	for i := range d.Records {
		rec := d.Records[i]
		if rec.Source != m {
			continue
		}
		if rec.Healthy {
			return true
		}
		if agent == nil || rec.LastSeen.After(agent.LastSeen) {
			agent = rec
		}
	}
	if agent == nil {
		var known []string
		for _, s := range srcs {
			if slices.Contains(q.Scope, s) {
				known = append(known, s)
			}
		}
		f.add(Finding{Key: KindMissingAgent + "|" + d.ID + "|" + m, Kind: KindMissingAgent, Device: d.ID, Name: d.Name,
			Sources: f.shared(append(known, m)...), Evidence: allEvidence(d), Requirement: f.req(req)})
		return false
	}
	var alive *Record
	for i := range d.Records {
		rec := d.Records[i]
		if rec.Source != m && rec.Healthy && !rec.LastSeen.IsZero() && p.withinWindow(rec) &&
			(alive == nil || rec.LastSeen.After(alive.LastSeen)) {
			alive = rec
		}
	}
	if alive == nil {
		return false
	}
	// The words and the detail are made from the evidence when read
	// (Finding.Text, SilentDetail).
	f.add(Finding{Key: KindSilentFailure + "|" + d.ID + "|" + m, Kind: KindSilentFailure, Device: d.ID, Name: d.Name,
		Sources: f.shared(alive.Source, m), Evidence: []Evidence{evidence(alive), evidence(agent)}, Requirement: f.req(req)})
	return false
}

// covers reports whether a device is in a requirement's scope.
func (q Requirement) covers(d *Device, srcs []string) bool {
	inScope := false
	for _, s := range srcs {
		if slices.Contains(q.Scope, s) {
			inScope = true
			break
		}
	}
	if !inScope {
		return false
	}
	if len(q.OS) > 0 && !slices.ContainsFunc(d.Records, func(r *Record) bool {
		os := strings.ToLower(r.OS)
		return os != "" && slices.ContainsFunc(q.OS, func(p string) bool { return strings.Contains(os, p) })
	}) {
		return false
	}
	if len(q.Groups) > 0 && !slices.ContainsFunc(d.Records, func(r *Record) bool {
		return slices.ContainsFunc(r.Groups, func(g string) bool { return slices.Contains(q.Groups, strings.ToLower(g)) })
	}) {
		return false
	}
	return true
}

// withinWindow reports a record seen within the window before it was read.
func (p *Plan) withinWindow(r *Record) bool {
	return !r.LastSeen.IsZero() && r.ReadAt.Sub(r.LastSeen) <= p.Window
}

func (p *Plan) hostnames(d *Device) []string {
	var out []string
	for i := range d.Records {
		if h := p.Match.Hostname(d.Records[i].Hostname); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

func (p *Plan) sourceNames() []string {
	out := make([]string, len(p.Sources))
	for i, s := range p.Sources {
		out[i] = s.Name
	}
	return out
}

// deviceID names a device by its strongest identifier, so that the id (and
// the keys of its findings) stay the same from run to run.
func (m Matcher) deviceID(recs []*Record) string {
	best := func(get func(*Record) []string) string {
		min := ""
		for i := range recs {
			for _, v := range get(recs[i]) {
				if v != "" && (min == "" || v < min) {
					min = v
				}
			}
		}
		return min
	}
	if s := best(func(r *Record) []string { return []string{m.Serial(r.Serial)} }); s != "" {
		return "serial:" + s
	}
	if s := best(func(r *Record) []string {
		out := make([]string, 0, len(r.MACs))
		for _, x := range r.MACs {
			out = append(out, m.MAC(x))
		}
		return out
	}); s != "" {
		return "mac:" + s
	}
	return "host:" + best(func(r *Record) []string { return []string{m.Hostname(r.Hostname)} })
}

func deviceName(recs []*Record) string {
	for i := range recs {
		if recs[i].Hostname != "" {
			return recs[i].Hostname
		}
	}
	return recs[0].ID
}

// deviceSources lists the sources with a record of d, in record order.
func deviceSources(d *Device) []string {
	var out []string
	for i := range d.Records {
		if s := d.Records[i].Source; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func joinedBy(d *Device) string {
	var parts []string
	for _, j := range d.Joins {
		if j.By != ByHostname {
			parts = append(parts, j.By+" "+j.Value)
		}
	}
	if len(parts) == 0 {
		return "host name"
	}
	return strings.Join(parts, ", ")
}

func lastSeen(d *Device) time.Time {
	var t time.Time
	for i := range d.Records {
		if d.Records[i].LastSeen.After(t) {
			t = d.Records[i].LastSeen
		}
	}
	return t
}

func evidence(r *Record) Evidence {
	return Evidence{r}
}

func allEvidence(d *Device) []Evidence {
	out := make([]Evidence, len(d.Records))
	for i := range d.Records {
		out[i] = evidence(d.Records[i])
	}
	return out
}

func refs(ev []Evidence) string {
	out := make([]string, len(ev))
	for i, e := range ev {
		out[i] = e.ID
	}
	return strings.Join(out, ", ")
}

// matrix counts, for each pair of sources, the devices both know.
func matrix(sources []SourceStatus, devices []Device, srcIndex map[string]int) []MatrixRow {
	n := len(sources)
	rows := make([]MatrixRow, n)
	for i, s := range sources {
		rows[i] = MatrixRow{Source: s.Name, Both: make([]int, n)}
	}
	for i := range devices {
		srcs := deviceSources(&devices[i])
		for _, a := range srcs {
			for _, b := range srcs {
				rows[srcIndex[a]].Both[srcIndex[b]]++
			}
		}
	}
	return rows
}

// findings collects findings, one per key.
type findings struct {
	list []Finding
	keys map[string]bool
	// One copy of each list of sources and of each requirement index,
	// shared by the findings that name them.
	sources map[string][]string
	reqs    map[int]*int
}

// shared returns names as a list other findings may share: read only.
func (f *findings) shared(names ...string) []string {
	if f.sources == nil {
		f.sources = map[string][]string{}
	}
	key := strings.Join(names, "\x00")
	if l, ok := f.sources[key]; ok {
		return l
	}
	l := slices.Clone(names)
	f.sources[key] = l
	return l
}

func (f *findings) req(i int) *int {
	if f.reqs == nil {
		f.reqs = map[int]*int{}
	}
	if p, ok := f.reqs[i]; ok {
		return p
	}
	p := &i
	f.reqs[i] = p
	return p
}

func (f *findings) add(x Finding) {
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if f.keys[x.Key] {
		return
	}
	f.keys[x.Key] = true
	if x.Sources == nil {
		x.Sources = []string{}
	}
	f.list = append(f.list, x)
}

func (f *findings) sorted() []Finding {
	rank := map[string]int{}
	for i, k := range FindingKinds {
		rank[k] = i
	}
	out := f.list
	if out == nil {
		out = []Finding{}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if ra, rb := rank[out[a].Kind], rank[out[b].Kind]; ra != rb {
			return ra < rb
		}
		return out[a].Key < out[b].Key
	})
	return out
}

// shortDuration writes a duration the way people say it: 3d4h, 2h5m, 40s.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0 && s > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", s)
}
