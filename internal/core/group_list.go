package core

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/groupfs"
)

// Schemas of the in-memory lists (GET /groups and GET /groups/{id}/files):
// Wazuh filters them in memory and accepts any field name in q.
var (
	groupSchema = agentql.NewSchema([]agentql.Field{
		{Name: "name"}, {Name: "count", Kind: agentql.KindInt}, {Name: "mergedSum"}, {Name: "configSum"},
	}, agentql.Lenient())
	groupFileSchema = agentql.NewSchema([]agentql.Field{{Name: "filename"}, {Name: "hash"}}, agentql.Lenient())
)

// ListQuery holds the parameters of Wazuh's in-memory lists.
type ListQuery struct {
	Offset    int
	Limit     int // 0 means 500
	Sort      string
	Search    string
	HasSearch bool
	Q         string
	Select    []string // nil: every field
	Distinct  bool
	Hash      string // hash algorithm of sums ("" is md5)
}

// memList applies sort, search, q, select, distinct and paging to items,
// in Wazuh's order; fields are the item's keys, required the one select
// always keeps. It returns the page and the count before paging.
func memList(items []groupfs.Obj, schema *agentql.Schema, fields []string, required string, q ListQuery,
	now time.Time) ([]any, int, error) {
	sorts, err := agentql.ParseSortList(q.Sort, fields)
	if err != nil {
		return nil, 0, qlError(err)
	}
	if sorts == nil {
		sorts = []agentql.SortField{{Field: required}}
	}
	var node agentql.Node
	if q.Q != "" {
		if node, err = agentql.Parse(q.Q, schema); err != nil {
			return nil, 0, qlError(err)
		}
	}
	var sel []string
	if q.Select != nil {
		if sel, err = agentql.ParseSelectList(strings.Join(q.Select, ","), fields); err != nil {
			return nil, 0, qlError(err)
		}
		if !q.Distinct && !slices.Contains(sel, required) {
			sel = append(sel, required)
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		for _, s := range sorts {
			c := compareAny(get(items[i], s.Field), get(items[j], s.Field))
			if c != 0 {
				return (c < 0) != s.Desc
			}
		}
		return false
	})
	var kept []any
	seen := map[string]bool{}
	for _, it := range items {
		m := make(map[string]any, len(it))
		for _, kv := range it {
			m[kv.Key] = kv.Value
		}
		if q.HasSearch && !agentql.SearchItem(agentql.ParseSearch(q.Search), m) {
			continue
		}
		if node != nil {
			ok, err := agentql.MatchMap(node, schema, m, now)
			if err != nil {
				return nil, 0, qlError(err)
			}
			if !ok {
				continue
			}
		}
		out := it
		if sel != nil {
			out = groupfs.Obj{}
			for _, kv := range it {
				if slices.Contains(sel, kv.Key) {
					out = append(out, kv)
				}
			}
		}
		if q.Distinct {
			b, _ := json.Marshal(out)
			if seen[string(b)] {
				continue
			}
			seen[string(b)] = true
		}
		kept = append(kept, out)
	}
	total := len(kept)
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	start := min(q.Offset, total)
	return kept[start:min(start+limit, total)], total, nil
}

func get(o groupfs.Obj, key string) any {
	v, _ := o.Get(key)
	return v
}

// compareAny orders values as Wazuh's in-memory sort does: numbers by
// value, strings ignoring case, missing values first.
func compareAny(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	ai, aok := a.(int)
	bi, bok := b.(int)
	if aok && bok {
		return ai - bi
	}
	as, bs := strings.ToLower(toText(a)), strings.ToLower(toText(b))
	return strings.Compare(as, bs)
}

func toText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
