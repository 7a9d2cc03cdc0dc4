package core

import (
	"sort"
	"strconv"
)

// Bulk is the result of an operation over many items: Wazuh's
// affected_items / failed_items envelope, built by services and rendered by
// the HTTP layer in one place.
type Bulk struct {
	Affected []any
	// Total is total_affected_items: the count before pagination. Negative
	// means len(Affected).
	Total   int
	failed  []failure
	AllMsg  string // every item succeeded
	SomeMsg string // some failed
	NoneMsg string // nothing affected
}

type failure struct {
	err *Error
	id  any
}

// NewBulk returns an empty Bulk with its three messages.
func NewBulk(all, some, none string) *Bulk {
	return &Bulk{Total: -1, AllMsg: all, SomeMsg: some, NoneMsg: none}
}

// Add records an affected item.
func (b *Bulk) Add(item any) { b.Affected = append(b.Affected, item) }

// Fail records a failed item id with its error.
func (b *Bulk) Fail(err *Error, id any) { b.failed = append(b.failed, failure{err, id}) }

// FailedCount is total_failed_items.
func (b *Bulk) FailedCount() int { return len(b.failed) }

// AffectedCount is total_affected_items.
func (b *Bulk) AffectedCount() int {
	if b.Total >= 0 {
		return b.Total
	}
	return len(b.Affected)
}

// FailedGroup is one entry of failed_items: an error and the ids it hit.
type FailedGroup struct {
	Err *Error
	IDs []any
}

// FailedGroups groups failures by code and message, sorted by code, with ids
// sorted numerically when all are numbers.
func (b *Bulk) FailedGroups() []FailedGroup {
	var groups []FailedGroup
	index := map[[2]string]int{}
	for _, f := range b.failed {
		k := [2]string{strconv.Itoa(f.err.Code), f.err.Detail + "\x00" + f.err.Remediation}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, FailedGroup{Err: f.err})
		}
		groups[i].IDs = append(groups[i].IDs, f.id)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Err.Code < groups[j].Err.Code })
	for _, g := range groups {
		sortIDs(g.IDs)
	}
	return groups
}

func sortIDs(ids []any) {
	nums := make([]float64, len(ids))
	numeric := true
	for i, id := range ids {
		switch v := id.(type) {
		case int:
			nums[i] = float64(v)
		case string:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				numeric = false
			}
			nums[i] = n
		default:
			numeric = false
		}
	}
	if numeric {
		sort.Sort(byNum{ids, nums})
		return
	}
	sort.SliceStable(ids, func(i, j int) bool { return str(ids[i]) < str(ids[j]) })
}

type byNum struct {
	ids  []any
	nums []float64
}

func (b byNum) Len() int           { return len(b.ids) }
func (b byNum) Less(i, j int) bool { return b.nums[i] < b.nums[j] }
func (b byNum) Swap(i, j int) {
	b.ids[i], b.ids[j] = b.ids[j], b.ids[i]
	b.nums[i], b.nums[j] = b.nums[j], b.nums[i]
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	}
	return ""
}

// Message picks the envelope message and error value Wazuh would send.
func (b *Bulk) Message() (msg string, code int) {
	affected, failed := b.AffectedCount(), b.FailedCount()
	switch {
	case affected == 0 && failed > 0:
		return b.NoneMsg, 1
	case affected == 0:
		return b.NoneMsg, 0
	case failed > 0:
		return b.SomeMsg, 2
	}
	return b.AllMsg, 0
}
