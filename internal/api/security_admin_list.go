package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// Formats of the list parameters in Wazuh's document.
var (
	reSearch       = regexp.MustCompile(`^[^;|&^*>]+$`)
	reSort         = regexp.MustCompile(`^[\w_\-,\s+.]+$`)
	reNumbersOrAll = regexp.MustCompile(`^(\d+|all)$`)
)

// listParams are the query parameters of GET /security/users, roles,
// policies and rules.
func listParams(idsParam string) []param {
	return []param{pList(idsParam, "numbers", reNumbers), pInt("offset", 0, 0), pInt("limit", 1, 100000),
		pretty, pString("search", "search", reSearch), pList("select", "names", reNames),
		pString("sort", "sort", reSort), waitForComplete, pString("q", "", nil), pBool("distinct")}
}

// listItem is one object of a security list: its fields in output order and
// the JSON-like view sort, search, q and select work on.
type listItem struct {
	id  int
	obj Object
	m   map[string]any
}

// secList describes one security list endpoint.
type secList struct {
	idsParam   string
	notFound   int  // failed-item code of an explicit id that does not exist
	textIDs    bool // not-found ids are reported as text (security rules)
	msgs       [3]string
	sortFields []string
	schema     *agentql.Schema
	// defaultSort applies without a sort parameter (nil: id, ascending);
	// noID lists have no id added to their selected fields.
	defaultSort []agentql.SortField
	noID        bool
	all         func(*core.Security) []listItem
	one         func(*core.Security, int) (listItem, bool)
}

// handle serves the list: RBAC (filter, failed items or 403), then
// Wazuh's list processing of what is left.
func (l secList) handle(c *call) error {
	var ids map[string][]string
	if _, ok := c.q[l.idsParam]; ok {
		named := listParam(c.q, l.idsParam)
		if _, err := intIDs(l.idsParam, named); err != nil {
			return err
		}
		ids = map[string][]string{l.idsParam: named}
	}
	d, err := c.authorize(0, ids)
	if err != nil {
		return err
	}
	b := core.NewBulk(l.msgs[0], l.msgs[1], l.msgs[2])
	t := d.Target(l.idsParam)
	var items []listItem
	if t != nil && t.Explicit {
		allowed, _ := intIDs(l.idsParam, t.Allowed)
		for i, id := range allowed {
			if it, ok := l.one(c.s.sec, id); ok {
				items = append(items, it)
				continue
			}
			var fid any = id
			if l.textIDs {
				fid = t.Allowed[i]
			}
			b.Fail(core.E(l.notFound), fid)
		}
		reportDenied(b, d, l.idsParam)
	} else {
		allow := allowFunc(t)
		for _, it := range l.all(c.s.sec) {
			if allow(it.id) {
				items = append(items, it)
			}
		}
	}
	page, total, err := c.processList(items, l)
	if err != nil {
		return err
	}
	b.Affected, b.Total = page, total
	writeBulk(c.w, c.r, b)
	return nil
}

// intIDs converts validated digit ids; ids too large for any row are a 400.
func intIDs(param string, list []string) ([]int, error) {
	out := make([]int, 0, len(list))
	for _, s := range list {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, badRequestf("%s is greater than the maximum of %d - '%s'", s, int64(1<<63-1), param)
		}
		out = append(out, n)
	}
	return out, nil
}

// processList applies Wazuh's list processing in its order: sort, search,
// q, select, distinct, then offset and limit; the total is counted before
// the page is cut. An empty list skips it all, parameter errors included.
func (c *call) processList(items []listItem, l secList) ([]any, int, error) {
	if len(items) == 0 {
		return []any{}, 0, nil
	}
	sorts := []agentql.SortField{{Field: "id"}}
	if l.defaultSort != nil {
		sorts = l.defaultSort
	}
	if v := c.q.Get("sort"); c.q.Has("sort") {
		var err error
		if sorts, err = agentql.ParseSortList(v, l.sortFields); err != nil {
			return nil, 0, qlError(err)
		}
	}
	sortItems(items, sorts)
	if c.q.Has("search") {
		sr := agentql.ParseSearch(c.q.Get("search"))
		items = keepItems(items, func(it listItem) bool { return agentql.SearchItem(sr, it.m) })
	}
	if q := c.q.Get("q"); q != "" && len(items) > 0 {
		n, err := agentql.Parse(q, l.schema)
		if err != nil {
			return nil, 0, qlError(err)
		}
		var matchErr error
		items = keepItems(items, func(it listItem) bool {
			ok, err := agentql.MatchMap(n, l.schema, it.m, c.s.now())
			matchErr = errors.Join(matchErr, err)
			return ok
		})
		if matchErr != nil {
			return nil, 0, qlError(matchErr)
		}
	}
	distinct := boolParam(c.q, "distinct")
	out := make([]any, 0, len(items))
	if c.q.Has("select") && len(items) > 0 {
		keys := make([]string, 0, len(items[0].obj))
		for _, f := range items[0].obj {
			keys = append(keys, f.Key)
		}
		fields, err := agentql.ParseSelectList(strings.Join(listParam(c.q, "select"), ","), keys)
		if err != nil {
			return nil, 0, qlError(err)
		}
		for _, it := range items {
			sel, ok := selectFields(it, fields, !distinct && !l.noID)
			if !ok {
				return nil, 0, core.Ef(1724, "%s", strings.Join(fields, ", "))
			}
			out = append(out, sel)
		}
	} else {
		for _, it := range items {
			out = append(out, it.obj)
		}
	}
	if distinct {
		out = distinctItems(out)
	}
	total := len(out)
	offset, limit := queryInt(c, "offset", 0), queryInt(c, "limit", 500)
	if offset >= len(out) {
		return []any{}, total, nil
	}
	return out[offset:min(len(out), offset+limit)], total, nil
}

func queryInt(c *call, name string, def int) int {
	if !c.q.Has(name) {
		return def
	}
	if hugeInt(c.q, name) {
		return math.MaxInt
	}
	n, err := strconv.Atoi(c.q[name][len(c.q[name])-1])
	if err != nil {
		return def
	}
	return n
}

func keepItems(items []listItem, ok func(listItem) bool) []listItem {
	out := items[:0:0]
	for _, it := range items {
		if ok(it) {
			out = append(out, it)
		}
	}
	return out
}

// sortItems orders by the sort fields, strings ignoring case; equal items
// keep their order (Python's sorted, reversed or not, is stable).
func sortItems(items []listItem, sorts []agentql.SortField) {
	sort.SliceStable(items, func(i, j int) bool {
		for _, sf := range sorts {
			c := compareValues(items[i].m[sf.Field], items[j].m[sf.Field])
			if c != 0 {
				return (c < 0) != sf.Desc
			}
		}
		return false
	})
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case int:
		if y, ok := b.(int); ok {
			return x - y
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(strings.ToLower(x), strings.ToLower(y))
		}
	}
	return 0
}

// selectFields keeps the selected fields of an item in the item's order
// (dotted names reach into nested objects), then id when required. ok is
// false when the item has none of them.
func selectFields(it listItem, fields []string, withID bool) (Object, bool) {
	var out Object
	found := false
	for _, f := range it.obj {
		var nested []string
		for _, sel := range fields {
			if sel == f.Key {
				out = append(out, f)
				found = true
			} else if rest, ok := strings.CutPrefix(sel, f.Key+"."); ok {
				nested = append(nested, rest)
			}
		}
		if len(nested) > 0 {
			if sub, ok := pickNested(it.m[f.Key], nested); ok {
				out = append(out, Field{f.Key, sub})
				found = true
			}
		}
	}
	if !found {
		return nil, false
	}
	if withID && !objectHas(out, "id") {
		out = append(out, Field{"id", it.id})
	}
	return out, true
}

func pickNested(v any, paths []string) (Object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	var out Object
	for _, p := range paths {
		head, rest, deep := strings.Cut(p, ".")
		val, ok := m[head]
		if !ok {
			continue
		}
		if deep {
			sub, ok := pickNested(val, []string{rest})
			if !ok {
				continue
			}
			val = sub
		}
		if !objectHas(out, head) {
			out = append(out, Field{head, val})
		}
	}
	return out, len(out) > 0
}

func objectHas(o Object, k string) bool {
	for _, f := range o {
		if f.Key == k {
			return true
		}
	}
	return false
}

func distinctItems(items []any) []any {
	seen := map[string]bool{}
	out := items[:0:0]
	for _, it := range items {
		b, _ := json.Marshal(it)
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, it)
		}
	}
	return out
}

// qlError converts a query-language error to Wazuh's answer; a q that does
// not parse is the bare 1407 Wazuh's in-memory lists give.
func qlError(err error) error {
	var e *agentql.Error
	if !errors.As(err, &e) {
		return core.Internal(err)
	}
	if e.Code == agentql.CodeQueryFormat {
		return core.E(1407)
	}
	return &core.Error{Code: e.Code, Detail: e.Msg, Remediation: e.Remediation}
}

// jsonView decodes a stored JSON body for search, q and select.
func jsonView(raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

func intsAny(list []int) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}

// decidedSelection turns the decision on param into the objects a bulk
// request acts on.
func decidedSelection(d rbac.Decision, param string) (core.Selection, error) {
	t := d.Target(param)
	if t == nil || !t.Explicit {
		return core.Selection{All: true, Allow: allowFunc(t)}, nil
	}
	ids, err := intIDs(param, t.Allowed)
	return core.Selection{IDs: ids}, err
}
