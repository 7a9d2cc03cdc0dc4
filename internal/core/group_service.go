package core

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/muster-project/muster/internal/groupfs"
	"github.com/muster-project/muster/internal/rbac"
)

// groupFields are the fields of GET /groups items, in their key order.
var groupFields = []string{"name", "count", "mergedSum", "configSum"}

// groupTarget runs a group check over explicit names (nil: every group)
// and returns its target; all names denied is the 403.
func (a *Agents) groupTarget(ctx context.Context, perms *rbac.Permissions, c rbac.Check, names []string) (*rbac.Target, error) {
	_, t, err := a.decide(ctx, perms, c, "groups_list", names)
	return t, err
}

// groupItems returns the items of GET /groups keyed by name: the groups
// both on disk and in the store, with their sums in the hash algorithm.
func (a *Agents) groupItems(ctx context.Context, algo string) (map[string]groupfs.Obj, error) {
	if algo == "" {
		algo = "md5"
	}
	if _, ok := groupfs.NewHash(algo); !ok {
		return nil, E(1723)
	}
	counts, err := a.store.Groups(ctx, nil)
	if err != nil {
		return nil, err
	}
	dirs, err := a.freshShared(ctx).List()
	if err != nil {
		return nil, Internal(err)
	}
	out := map[string]groupfs.Obj{}
	for _, name := range dirs {
		n, ok := counts[name]
		if !ok {
			continue
		}
		item := groupfs.Obj{{Key: "name", Value: name}, {Key: "count", Value: n}}
		dir := filepath.Join(a.shared.Root(), name)
		if h, ok := groupfs.FileHash(filepath.Join(dir, groupfs.MergedFile), algo); ok {
			item.Set("mergedSum", h)
		}
		if h, ok := groupfs.FileHash(filepath.Join(dir, groupfs.AgentConf), algo); ok {
			item.Set("configSum", h)
		}
		out[name] = item
	}
	return out, nil
}

// ListGroups is GET /groups; names nil means every permitted group.
func (a *Agents) ListGroups(ctx context.Context, perms *rbac.Permissions, names []string, q ListQuery) (*Bulk, error) {
	b := NewBulk("All selected groups information was returned", "Some groups information was not returned",
		"No group information was returned")
	t, err := a.groupTarget(ctx, perms, CheckGroupRead, names)
	if err != nil {
		return nil, err
	}
	all, err := a.groupItems(ctx, q.Hash)
	if err != nil {
		return nil, err
	}
	var items []groupfs.Obj
	if t.Explicit {
		for _, n := range t.Denied {
			b.Fail(Denied(t.Type), n)
		}
		seen := map[string]bool{}
		for _, n := range t.Allowed {
			if seen[n] {
				continue
			}
			seen[n] = true
			if it, ok := all[n]; ok {
				items = append(items, it)
			} else {
				b.Fail(E(1710), n)
			}
		}
	} else {
		for n, it := range all {
			if t.Filter.Allows(n, nil) {
				items = append(items, it)
			}
		}
	}
	page, total, err := memList(items, groupSchema, groupFields, "name", q, a.now())
	if err != nil {
		return nil, err
	}
	b.Affected, b.Total = page, total
	return b, nil
}

// CreateGroup is POST /groups.
func (a *Agents) CreateGroup(ctx context.Context, perms *rbac.Permissions, name string) error {
	if err := canAll(perms, "group:create"); err != nil {
		return err
	}
	if !groupfs.ValidGroupName(name) {
		return E(1722)
	}
	shared := a.freshShared(ctx)
	if strings.EqualFold(name, DefaultGroup) || shared.Exists(name) {
		return Ef(1711, "%s", name)
	}
	if shared.Taken(name) {
		return Ef(1713, "%s", name)
	}
	created, err := a.createGroup(ctx, name)
	if err != nil {
		return Ef(1005, "%v", err)
	}
	if !created { // created meanwhile by another request or node
		return Ef(1711, "%s", name)
	}
	if err := a.store.CreateGroups(ctx, []string{name}); err != nil {
		return Internal(err)
	}
	return nil
}

// DeleteGroups is DELETE /groups; names containing "all" means every
// permitted group.
func (a *Agents) DeleteGroups(ctx context.Context, perms *rbac.Permissions, names []string) (*Bulk, error) {
	b := NewBulk("All selected groups were deleted", "Some groups were not deleted", "No group was deleted")
	if slices.Contains(names, "all") {
		names = nil
	}
	t, err := a.groupTarget(ctx, perms, CheckGroupDelete, names)
	if err != nil {
		return nil, err
	}
	var todo []string
	shared := a.freshShared(ctx)
	if t.Explicit {
		for _, n := range t.Denied {
			b.Fail(Denied(t.Type), n)
		}
		seen := map[string]bool{}
		for _, n := range t.Allowed {
			if seen[n] {
				continue
			}
			seen[n] = true
			switch {
			case !shared.Exists(n):
				b.Fail(E(1710), n)
			case n == DefaultGroup:
				b.Fail(E(1712), n)
			default:
				todo = append(todo, n)
			}
		}
	} else {
		dirs, err := shared.List()
		if err != nil {
			return nil, Internal(err)
		}
		for _, n := range dirs {
			if n != DefaultGroup && t.Filter.Allows(n, nil) {
				todo = append(todo, n)
			}
		}
	}
	slices.Sort(todo)
	var moved []int
	for _, n := range todo {
		if err := a.removeGroup(ctx, n); err != nil {
			return nil, Internal(err)
		}
		ids, err := a.store.DeleteGroup(ctx, n)
		if err != nil {
			return nil, Internal(err)
		}
		moved = append(moved, ids...)
		b.Add(n)
	}
	a.recomputeAgents(ctx, moved)
	return b, nil
}

// requireGroup is the 404 of endpoints whose group must exist.
func (a *Agents) requireGroup(ctx context.Context, group string, withName bool) error {
	if a.freshShared(ctx).Exists(group) {
		return nil
	}
	if withName {
		return Ef(1710, "%s", group)
	}
	return E(1710)
}

// GroupConfiguration is GET /groups/{group_id}/configuration.
func (a *Agents) GroupConfiguration(ctx context.Context, perms *rbac.Permissions, group string, offset, limit int) (int, []any, error) {
	if _, err := a.groupTarget(ctx, perms, CheckGroupRead, []string{group}); err != nil {
		return 0, nil, err
	}
	if err := a.requireGroup(ctx, group, true); err != nil {
		return 0, nil, err
	}
	data, path, err := a.shared.ReadFile(group, groupfs.AgentConf)
	if err != nil {
		return 0, nil, Ef(1006, "%s", path)
	}
	items, err := groupfs.ToJSON(data)
	if err != nil {
		return 0, nil, Ef(1101, "%v", err)
	}
	if limit <= 0 {
		limit = 500
	}
	out := make([]any, 0, len(items))
	start := min(offset, len(items)) // offset may be near MaxInt: no offset+limit
	for _, it := range items[start:min(start+limit, len(items))] {
		out = append(out, it)
	}
	return len(items), out, nil
}

// UpdateGroupConfiguration is PUT /groups/{group_id}/configuration: the
// XML is checked, re-printed as Wazuh stores it (groupfs.Reformat), the
// result checked again, then stored and merged.mg rebuilt.
func (a *Agents) UpdateGroupConfiguration(ctx context.Context, perms *rbac.Permissions, group string, data []byte) error {
	if _, err := a.groupTarget(ctx, perms, CheckGroupConfig, []string{group}); err != nil {
		return err
	}
	if err := a.requireGroup(ctx, group, true); err != nil {
		return err
	}
	if err := groupfs.Parse(data); err != nil {
		var se *groupfs.SyntaxError
		if errors.As(err, &se) {
			return Ef(1113, "%s", se.Msg)
		}
		return Ef(1114, "%s", err.Error())
	}
	data, err := groupfs.Reformat(data)
	if err != nil {
		var se *groupfs.SyntaxError
		errors.As(err, &se)
		return Ef(1113, "%s", se.Msg)
	}
	// The re-printed file is what agents get: it must still be valid (an
	// attribute holding a double quote is not, once re-printed).
	if err := groupfs.Parse(data); err != nil {
		return Ef(1114, "%s", err.Error())
	}
	if err := a.putGroupFile(ctx, group, groupfs.AgentConf, data); err != nil {
		if errors.Is(err, errGroupGone) || errors.Is(err, groupfs.ErrNoGroup) {
			return Ef(1710, "%s", group) // deleted meanwhile, maybe on another node
		}
		return Ef(1016, "%v", err)
	}
	a.recomputeSync(ctx, []string{group})
	return nil
}
