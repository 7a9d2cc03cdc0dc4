package core

import (
	"context"
	"errors"
	"path"
	"strings"

	"github.com/muster-project/muster/internal/groupfs"
	"github.com/muster-project/muster/internal/rbac"
)

// GroupFiles is GET /groups/{group_id}/files; a missing group is a failed
// item (1710), not a 404, as in Wazuh.
func (a *Agents) GroupFiles(ctx context.Context, perms *rbac.Permissions, group string, q ListQuery) (*Bulk, error) {
	b := NewBulk("All selected groups files were returned", "Some groups files were not returned",
		"No groups files were returned")
	if _, err := a.groupTarget(ctx, perms, CheckGroupRead, []string{group}); err != nil {
		return nil, err
	}
	algo := q.Hash
	if algo == "" {
		algo = "md5"
	}
	if _, ok := groupfs.NewHash(algo); !ok {
		return nil, E(1723)
	}
	files, err := a.freshShared(ctx).Files(group)
	if errors.Is(err, groupfs.ErrNoGroup) {
		// Parameters are still checked: a bad sort or q is an error first.
		if _, _, err := memList(nil, groupFileSchema, []string{"filename", "hash"}, "filename", q, a.now()); err != nil {
			return nil, err
		}
		b.Fail(E(1710), group)
		return b, nil
	}
	if err != nil {
		return nil, Ef(1727, "%v", err)
	}
	items := make([]groupfs.Obj, 0, len(files))
	for _, f := range files {
		var hash any
		if h, ok := groupfs.FileHash(f.Path, algo); ok && f.Regular {
			hash = h
		}
		items = append(items, groupfs.Obj{{Key: "filename", Value: f.Name}, {Key: "hash", Value: hash}})
	}
	page, total, err := memList(items, groupFileSchema, []string{"filename", "hash"}, "filename", q, a.now())
	if err != nil {
		return nil, err
	}
	b.Affected, b.Total = page, total
	return b, nil
}

// GroupFile is the content of GET /groups/{group_id}/files/{file_name}:
// the raw bytes with their media type, or the parsed form.
type GroupFile struct {
	Raw         []byte
	ContentType string
	Parsed      any
}

// contentTypes are the media types of the raw group files Wazuh serves.
var contentTypes = map[string]string{".xml": "application/xml", ".json": "application/json",
	".yml": "application/x-yaml", ".yaml": "application/x-yaml", ".html": "text/html", ".csv": "text/csv"}

// ReadGroupFile is GET /groups/{group_id}/files/{file_name}.
func (a *Agents) ReadGroupFile(ctx context.Context, perms *rbac.Permissions, group, name string, raw bool,
	typ string) (*GroupFile, error) {
	if _, err := a.groupTarget(ctx, perms, CheckGroupRead, []string{group}); err != nil {
		return nil, err
	}
	if err := a.requireGroup(ctx, group, true); err != nil {
		return nil, err
	}
	data, p, err := a.shared.ReadFile(group, name)
	if err != nil {
		if p == "" {
			p = path.Join(a.shared.Root(), group, name)
		}
		return nil, Ef(1006, "%s", p)
	}
	if raw {
		ct := "text/plain"
		if name == groupfs.AgentConf {
			ct = "application/xml"
		} else if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
			ct = t
		}
		return &GroupFile{Raw: data, ContentType: ct + "; charset=utf-8"}, nil
	}
	parsed, err := groupfs.FileToJSON(name, typ, data)
	if err != nil {
		return nil, Ef(1101, "%v", err)
	}
	return &GroupFile{Parsed: parsed}, nil
}
