package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/groupfs"
)

// Groups and their files live in the store (GroupFileStore), shared by
// every node on it; each node's etc/shared is a cache of the store in
// Wazuh's layout, which agents' merged.mg, the API's hashes and any tool
// reading the directory work from.
//
//   - A write of the API goes to the store in one transaction, then the
//     node brings its directory in line (write-through).
//   - Reads first compare the store's group version with the one the
//     directory reflects and pull the changes when it moved, so every
//     node's API answers from the same files at once; a poll does the same
//     in the background, so remoted pushes other nodes' changes.
//   - Files changed in the directory by hand (Wazuh's way of editing
//     agent.conf) are found by the periodic scan (RefreshShared) and
//     written to the store, the newer write winning.
//   - The first start on a store (the sync state file is missing or names
//     another store) imports the directory, in one transaction, without
//     replacing anything the store already holds; the store then wins.
//
// known remembers, per entry, the store's sum and the disk's size and time
// the last sync left: a disk entry that differs from it was changed here, a
// store row that differs was changed elsewhere.

// groupSync keeps the shared directory in step with the store.
type groupSync struct {
	store GroupFileStore // nil: the groups are this node's directory alone
	path  string         // the sync state file

	mu      sync.RWMutex // held to change the directory; read to build merged files
	version atomic.Int64 // the store's group version the directory reflects
	epoch   string
	known   map[entryKey]knownEntry
	gen     atomic.Uint64 // moves whenever the directory's content changed
	moved   []int         // agents a scan moved out of deleted groups, to re-check
}

type entryKey struct{ Group, Name string }

type knownEntry struct {
	Sum   string `json:"sum"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"`
}

// syncState is the sync state file's content.
type syncState struct {
	Epoch   string        `json:"epoch"`
	Entries []stateRecord `json:"entries"`
}

type stateRecord struct {
	Group string `json:"group"`
	Name  string `json:"name"`
	knownEntry
}

// SharedGeneration changes whenever the groups' files on disk changed, so
// the secure channel rebuilds the merged files it caches.
func (a *Agents) SharedGeneration() uint64 { return a.groups.gen.Load() }

// startGroupSync loads the sync state and brings the directory and the
// store together: an import on the first start, then a full sync.
func (a *Agents) startGroupSync(ctx context.Context) error {
	g := &a.groups
	fs, ok := a.store.(GroupFileStore)
	if !ok {
		return nil
	}
	g.store, g.path = fs, filepath.Join(a.dataDir, "var", "shared-sync.json")
	_, epoch, err := fs.GroupState(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.version.Store(-1)
	first := !g.load(epoch)
	if first {
		if err := a.importShared(ctx); err != nil {
			return fmt.Errorf("import etc/shared into the store: %w", err)
		}
	}
	g.epoch = epoch
	changed, err := a.syncLocked(ctx, !first, first)
	if err == nil && len(changed) > 0 {
		g.mu.Unlock()
		a.recomputeSync(ctx, changed)
		g.mu.Lock()
	}
	return err
}

// load reads the sync state; false when there is none for this store.
func (g *groupSync) load(epoch string) bool {
	g.known = map[entryKey]knownEntry{}
	b, err := os.ReadFile(g.path)
	if err != nil {
		return false
	}
	var st syncState
	if json.Unmarshal(b, &st) != nil || st.Epoch != epoch {
		return false
	}
	for _, r := range st.Entries {
		g.known[entryKey{r.Group, r.Name}] = r.knownEntry
	}
	return true
}

func (g *groupSync) save() error {
	st := syncState{Epoch: g.epoch, Entries: make([]stateRecord, 0, len(g.known))}
	for k, v := range g.known {
		st.Entries = append(st.Entries, stateRecord{Group: k.Group, Name: k.Name, knownEntry: v})
	}
	slices.SortFunc(st.Entries, func(x, y stateRecord) int {
		if x.Group != y.Group {
			return compareStrings(x.Group, y.Group)
		}
		return compareStrings(x.Name, y.Name)
	})
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(g.path), 0o700); err != nil {
		return err
	}
	return groupfs.WriteFileAtomic(g.path, b, 0o600)
}

func compareStrings(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// importShared writes every entry of the directory the store lacks, in one
// transaction.
func (a *Agents) importShared(ctx context.Context) error {
	entries, err := a.shared.Scan()
	if err != nil {
		return err
	}
	changes, err := a.diskChanges(entries, func(groupfs.Entry) bool { return true })
	if err != nil {
		return err
	}
	for i := range changes {
		changes[i].IfAbsent, changes[i].NotOlder = true, false
	}
	if _, err := a.groups.store.ApplyGroupFiles(ctx, changes); err != nil {
		return err
	}
	return nil
}

// diskChanges turns the chosen disk entries into store writes, group
// markers first.
func (a *Agents) diskChanges(entries []groupfs.Entry, pick func(groupfs.Entry) bool) ([]GroupFileChange, error) {
	var markers, files []GroupFileChange
	for _, e := range entries {
		if !pick(e) {
			continue
		}
		c := GroupFileChange{GroupFileRow: GroupFileRow{Group: e.Group, Name: e.Name, MTime: e.MTime}, NotOlder: true}
		if e.Name == "" {
			c.IfAbsent = true
			markers = append(markers, c)
			continue
		}
		data, err := a.shared.ReadEntry(e.Group, e.Name)
		if err != nil {
			continue // gone meanwhile: the next scan sees it
		}
		c.Data, c.Sum = data, groupfs.MD5(data)
		files = append(files, c)
	}
	return append(markers, files...), nil
}

// FollowGroups brings the shared directory in line with the store when
// another node changed the groups.
func (a *Agents) FollowGroups(ctx context.Context) error {
	g := &a.groups
	if g.store == nil {
		return nil
	}
	v, _, err := g.store.GroupState(ctx)
	if err != nil {
		return err
	}
	if v == g.version.Load() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, err = a.syncLocked(ctx, false, false)
	return err
}

// freshShared is what reads call first: the directory, brought up to date
// with the store (a failure is logged and the cache served).
func (a *Agents) freshShared(ctx context.Context) *groupfs.Dir {
	if err := a.FollowGroups(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("groups: cannot follow the store", "err", err)
	}
	return a.shared
}

// ScanShared writes the changes made in the directory by hand to the
// store and takes in the store's.
func (a *Agents) ScanShared(ctx context.Context) error {
	g := &a.groups
	if g.store == nil {
		return nil
	}
	g.mu.Lock()
	changed, err := a.syncLocked(ctx, true, false)
	moved := g.moved
	g.moved = nil
	g.mu.Unlock()
	// Outside the lock: building merged files checks the store again.
	if len(changed) > 0 {
		a.recomputeSync(ctx, changed)
	}
	a.recomputeAgents(ctx, moved)
	return err
}

// syncLocked is one sync: with scan, the directory's own changes go to the
// store first; then the store's rows are applied to the directory (with
// force, the store wins over anything on disk). It returns the groups
// whose files this node wrote to the store ("" for ar.conf).
func (a *Agents) syncLocked(ctx context.Context, scan, force bool) ([]string, error) {
	g := &a.groups
	version, _, err := g.store.GroupState(ctx)
	if err != nil {
		return nil, err
	}
	var pushed []string
	if scan {
		if pushed, err = a.pushLocal(ctx); err != nil {
			return nil, err
		}
	}
	rows, err := g.store.ListGroupFiles(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.pull(ctx, rows, scan || force); err != nil {
		return pushed, err
	}
	// Entries that could not be written were logged: they are retried at
	// the next scan, not at every read.
	g.version.Store(version)
	return pushed, nil
}

// pushLocal writes the entries changed on disk since the last sync.
func (a *Agents) pushLocal(ctx context.Context) ([]string, error) {
	g := &a.groups
	entries, err := a.shared.Scan()
	if err != nil {
		return nil, err
	}
	onDisk := map[entryKey]bool{}
	var changed []groupfs.Entry
	for _, e := range entries {
		k := entryKey{e.Group, e.Name}
		onDisk[k] = true
		old, ok := g.known[k]
		if ok && (e.Name == "" || (old.Size == e.Size && old.MTime == e.MTime)) {
			continue
		}
		if ok && e.Name != "" {
			if data, err := a.shared.ReadEntry(e.Group, e.Name); err == nil && groupfs.MD5(data) == old.Sum {
				g.known[k] = knownEntry{Sum: old.Sum, Size: e.Size, MTime: e.MTime} // touched, not changed
				continue
			}
		}
		changed = append(changed, e)
	}
	changes, err := a.diskChanges(changed, func(groupfs.Entry) bool { return true })
	if err != nil {
		return nil, err
	}
	var created, removed []string
	for _, c := range changes {
		if c.Name == "" {
			created = append(created, c.Group)
		}
	}
	for k, old := range g.known {
		switch {
		case onDisk[k]:
		case k.Name == "" && k.Group == DefaultGroup:
			// never deleted: the pull below brings it back
		case k.Name == "":
			changes = append(changes, GroupFileChange{GroupFileRow: GroupFileRow{Group: k.Group}, Delete: true})
			removed = append(removed, k.Group)
		case !onDisk[entryKey{k.Group, ""}] && k.Group != "":
			// its group went as a whole
		default:
			changes = append(changes, GroupFileChange{GroupFileRow: GroupFileRow{Group: k.Group, Name: k.Name},
				Delete: true, IfSum: old.Sum})
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if _, err := g.store.ApplyGroupFiles(ctx, changes); err != nil {
		return nil, err
	}
	if len(created) > 0 {
		if err := a.store.CreateGroups(ctx, created); err != nil {
			return nil, err
		}
	}
	for _, name := range removed {
		ids, err := a.store.DeleteGroup(ctx, name)
		if err != nil {
			return nil, err
		}
		g.moved = append(g.moved, ids...)
	}
	var groups []string
	for _, c := range changes {
		if !slices.Contains(groups, c.Group) {
			groups = append(groups, c.Group)
		}
	}
	return groups, nil
}

// pull applies the store's rows to the directory. Without settled, an
// entry changed on disk and not yet written to the store is left alone
// when it is the newer. Only a store failure is returned; an entry the
// directory refuses is logged and left out of known.
func (a *Agents) pull(ctx context.Context, rows []GroupFileRow, settled bool) error {
	g := &a.groups
	inStore := make(map[entryKey]bool, len(rows))
	next := make(map[entryKey]knownEntry, len(rows))
	var todo []GroupFileRow
	for _, r := range rows {
		k := entryKey{r.Group, r.Name}
		inStore[k] = true
		old, isKnown := g.known[k]
		d, onDisk := a.shared.StatEntry(r.Group, r.Name)
		if r.Name == "" {
			switch {
			case onDisk:
				next[k] = knownEntry{}
			case isKnown && !settled:
				next[k] = old // removed here: the next scan deletes it
			default:
				todo = append(todo, r)
			}
			continue
		}
		same := isKnown && onDisk && old.Size == d.Size && old.MTime == d.MTime
		if same && old.Sum == r.Sum {
			next[k] = old
			continue
		}
		if onDisk && !same {
			if data, err := a.shared.ReadEntry(r.Group, r.Name); err == nil && groupfs.MD5(data) == r.Sum {
				next[k] = knownEntry{Sum: r.Sum, Size: d.Size, MTime: d.MTime}
				continue
			}
		}
		pendingEdit := onDisk && !same && d.MTime > r.MTime
		pendingDelete := !onDisk && isKnown && old.Sum == r.Sum
		if !settled && (pendingEdit || pendingDelete) {
			if isKnown {
				next[k] = old
			}
			continue
		}
		todo = append(todo, r)
	}
	var errs []error
	touched := map[string]bool{}
	// Groups first, then their files, so a file never lands outside one.
	slices.SortStableFunc(todo, func(x, y GroupFileRow) int { return boolInt(x.Name != "") - boolInt(y.Name != "") })
	data, err := a.rowData(ctx, todo)
	if err != nil {
		return err
	}
	for _, r := range todo {
		k := entryKey{r.Group, r.Name}
		var content []byte
		if r.Name != "" {
			var ok bool
			if content, ok = data[k]; !ok {
				continue // removed meanwhile: the next version says so
			}
		}
		e, err := a.shared.PutEntry(r.Group, r.Name, content, time.Unix(0, r.MTime))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", r.Group, r.Name, err))
			continue
		}
		touched[r.Group] = true
		if r.Name == "" {
			next[k] = knownEntry{}
		} else {
			next[k] = knownEntry{Sum: groupfs.MD5(content), Size: e.Size, MTime: e.MTime}
		}
	}
	// What the store no longer has was deleted elsewhere.
	for k := range g.known {
		if inStore[k] || (k.Name != "" && !inStore[entryKey{k.Group, ""}] && k.Group != "") {
			continue
		}
		if err := a.shared.RemoveEntry(k.Group, k.Name); err != nil {
			errs = append(errs, err)
			next[k] = g.known[k]
			continue
		}
		touched[k.Group] = true
	}
	changedKnown := !knownEqual(g.known, next)
	g.known = next
	if len(touched) > 0 {
		a.refreshTouched(touched)
		g.gen.Add(1)
	}
	if changedKnown || len(touched) > 0 {
		if err := g.save(); err != nil {
			errs = append(errs, fmt.Errorf("sync state: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.log.Warn("groups: some files could not be written to etc/shared", "err", err)
	}
	return nil
}

// rowData fetches the content of the file rows to write.
func (a *Agents) rowData(ctx context.Context, rows []GroupFileRow) (map[entryKey][]byte, error) {
	var groups []string
	for _, r := range rows {
		if r.Name != "" && !slices.Contains(groups, r.Group) {
			groups = append(groups, r.Group)
		}
	}
	full, err := a.groups.store.ReadGroupFiles(ctx, groups)
	if err != nil {
		return nil, err
	}
	out := make(map[entryKey][]byte, len(full))
	for _, r := range full {
		out[entryKey{r.Group, r.Name}] = r.Data
	}
	return out, nil
}

// refreshTouched rebuilds the merged.mg of the groups written (every
// group's when ar.conf changed).
func (a *Agents) refreshTouched(touched map[string]bool) {
	if touched[""] {
		if _, err := a.shared.RefreshAll(); err != nil {
			a.log.Warn("merged.mg refresh failed", "err", err)
		}
		return
	}
	for group := range touched {
		if _, _, err := a.shared.Refresh(group); err != nil && !errors.Is(err, groupfs.ErrNoGroup) {
			a.log.Warn("merged.mg refresh failed", "group", group, "err", err)
		}
	}
}

func knownEqual(x, y map[entryKey]knownEntry) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if w, ok := y[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// errGroupGone is a write to a group that no longer exists.
var errGroupGone = errors.New("group does not exist")

// writeGroups applies changes to the store (or, without a group store, to
// the directory alone through local) and brings the directory in line; it
// returns which changes took effect.
func (a *Agents) writeGroups(ctx context.Context, changes []GroupFileChange) ([]bool, error) {
	g := &a.groups
	g.mu.Lock()
	defer g.mu.Unlock()
	applied, err := g.store.ApplyGroupFiles(ctx, changes)
	if err != nil {
		return nil, err
	}
	_, err = a.syncLocked(ctx, false, false)
	return applied, err
}

// createGroup makes a group with the template agent.conf; false when it
// exists already.
func (a *Agents) createGroup(ctx context.Context, name string) (bool, error) {
	if a.groups.store == nil {
		if err := a.shared.Create(name); err != nil {
			if errors.Is(err, os.ErrExist) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	now := a.now().UnixNano()
	tpl := []byte(groupfs.AgentTemplate)
	applied, err := a.writeGroups(ctx, []GroupFileChange{
		{GroupFileRow: GroupFileRow{Group: name, MTime: now}, IfAbsent: true},
		{GroupFileRow: GroupFileRow{Group: name, Name: groupfs.AgentConf, MTime: now, Data: tpl,
			Sum: groupfs.MD5(tpl)}, IfAbsent: true},
	})
	if err != nil {
		return false, err
	}
	return applied[0], nil
}

// removeGroup deletes a group and its files.
func (a *Agents) removeGroup(ctx context.Context, name string) error {
	if a.groups.store == nil {
		if err := a.shared.Remove(name); err != nil && !errors.Is(err, groupfs.ErrNoGroup) {
			return err
		}
		return nil
	}
	_, err := a.writeGroups(ctx, []GroupFileChange{{GroupFileRow: GroupFileRow{Group: name}, Delete: true}})
	return err
}

// putGroupFile replaces a file of a group; errGroupGone when the group
// does not exist.
func (a *Agents) putGroupFile(ctx context.Context, group, name string, data []byte) error {
	if a.groups.store == nil {
		if name != groupfs.AgentConf {
			return fmt.Errorf("only %s is written", groupfs.AgentConf)
		}
		return a.shared.WriteConfig(group, data)
	}
	applied, err := a.writeGroups(ctx, []GroupFileChange{{GroupFileRow: GroupFileRow{Group: group, Name: name,
		MTime: a.now().UnixNano(), Data: data, Sum: groupfs.MD5(data)}}})
	if err != nil {
		return err
	}
	if !applied[0] {
		return errGroupGone
	}
	return nil
}

// recomputeSync sets group_config_status of the agents of these groups
// (every agent when ar.conf, group "", is among them) from the merged sum
// they reported and their groups' current files, so every node lists the
// same status right after a change.
func (a *Agents) recomputeSync(ctx context.Context, groups []string) {
	fs := a.groups.store
	if fs == nil || len(groups) == 0 {
		return
	}
	q := AgentCountQuery{Fields: []string{"group"}, Filter: AgentFilter{Now: a.now(), NotManager: true}}
	lists := map[string]bool{}
	if slices.Contains(groups, "") {
		groups = []string{""}
	}
	for _, g := range groups {
		if g != "" {
			q.Filter.Cond = agentql.Cond{Field: "group", Op: agentql.OpEq, Value: g}
		}
		rows, _, err := a.store.CountAgents(ctx, q)
		if err != nil {
			a.log.Warn("groups: cannot list the agents to re-check", "err", err)
			return
		}
		for _, r := range rows {
			if r.Values[0].Valid && r.Values[0].V != "" {
				lists[r.Values[0].V] = true
			}
		}
	}
	a.recomputeLists(ctx, lists)
}

// recomputeLists sets group_config_status of the agents holding each of
// these group lists.
func (a *Agents) recomputeLists(ctx context.Context, lists map[string]bool) {
	fs := a.groups.store
	for list := range lists {
		sum := "-" // no merged file can be built: nothing reported matches
		if b, err := a.MergedFile(splitList(list)); err == nil {
			sum = groupfs.MD5(b)
		}
		if err := fs.SetGroupConfigStatus(ctx, list, sum); err != nil {
			a.log.Warn("groups: cannot update group_config_status", "groups", list, "err", err)
		}
	}
}

func splitList(csv string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(csv); i++ {
		if i == len(csv) || csv[i] == ',' {
			out = append(out, csv[start:i])
			start = i + 1
		}
	}
	return out
}

// recomputeAgents re-checks group_config_status for the group lists these
// agents now hold (after their groups changed).
func (a *Agents) recomputeAgents(ctx context.Context, ids []int) {
	if a.groups.store == nil || len(ids) == 0 {
		return
	}
	groups, err := a.store.AgentGroups(ctx, ids)
	if err != nil {
		a.log.Warn("groups: cannot read the agents' groups to re-check", "err", err)
		return
	}
	lists := map[string]bool{}
	for _, gs := range groups {
		if len(gs) > 0 {
			lists[strings.Join(gs, ",")] = true
		}
	}
	a.recomputeLists(ctx, lists)
}

func changeIDs(changes []GroupChange) []int {
	ids := make([]int, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	return ids
}
