package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// AffectedItems is Wazuh's list and bulk result: the items that succeeded and the groups of items that failed.
type AffectedItems[T any] struct {
	AffectedItems      []T          `json:"affected_items"`
	TotalAffectedItems int          `json:"total_affected_items"`
	TotalFailedItems   int          `json:"total_failed_items"`
	FailedItems        []FailedItem `json:"failed_items"`
	Message            string       `json:"-"` // the envelope's message
}

// FailedItem is one group of ids that failed with the same error.
type FailedItem struct {
	Error ItemError `json:"error"`
	IDs   []string  `json:"id"`
}

// ItemError is the error of a failed item group.
type ItemError struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
}

// UnmarshalJSON accepts ids as strings or numbers (Wazuh mixes both).
func (f *FailedItem) UnmarshalJSON(b []byte) error {
	var raw struct {
		Error ItemError         `json:"error"`
		ID    []json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f.Error, f.IDs = raw.Error, make([]string, 0, len(raw.ID))
	for _, id := range raw.ID {
		var s string
		if json.Unmarshal(id, &s) != nil {
			s = string(id)
		}
		f.IDs = append(f.IDs, s)
	}
	return nil
}

// Failed returns the failed items as one error (nil if none), each an *Error with Status 200 and the item's code.
func (a *AffectedItems[T]) Failed() error {
	var errs []error
	for _, f := range a.FailedItems {
		errs = append(errs, &Error{Status: 200, Code: f.Error.Code, Title: "Failed item",
			Detail:      fmt.Sprintf("%s (ids %s)", f.Error.Message, strings.Join(f.IDs, ", ")),
			Remediation: f.Error.Remediation})
	}
	return errors.Join(errs...)
}

// Message is the "message" of a plain Wazuh result such as {"message": "...", "error": 0}.
type Message struct {
	Message string `json:"message"`
	Error   int    `json:"error"`
}

// getList calls the API and decodes an affected-items result.
func getList[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (*AffectedItems[T], error) {
	var r Response[AffectedItems[T]]
	if err := c.Do(ctx, method, path, q, body, &r); err != nil {
		return nil, err
	}
	r.Data.Message = r.Message
	return &r.Data, nil
}

// getData calls the API and returns the "data" of a plain result.
func getData[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (T, error) {
	var r Response[T]
	err := c.Do(ctx, method, path, q, body, &r)
	return r.Data, err
}

// getMessage calls the API and returns the "message" of a plain result.
func getMessage(ctx context.Context, c *Client, method, path string, q url.Values, body any) (string, error) {
	var m Message
	err := c.Do(ctx, method, path, q, body, &m)
	return m.Message, err
}

// getOne calls the API and returns the first affected item, or the failure that replaced it.
func getOne[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (*T, error) {
	res, err := getList[T](ctx, c, method, path, q, body)
	if err != nil {
		return nil, err
	}
	if len(res.AffectedItems) > 0 {
		return &res.AffectedItems[0], nil
	}
	for _, f := range res.FailedItems {
		return nil, &Error{Status: 200, Code: f.Error.Code, Title: "Failed item", Detail: f.Error.Message,
			Remediation: f.Error.Remediation, Method: method, Path: path}
	}
	return nil, &Error{Status: 200, Title: "Not Found", Detail: "the answer holds no item: " + res.Message,
		Remediation: "the item does not exist or RBAC hides it from this user", Method: method, Path: path, kind: kindNotFound}
}

// ListOptions are the common parameters of the security list endpoints (users, roles, policies, rules).
type ListOptions struct {
	IDs      []int    // restrict to these ids
	Offset   int      // first item
	Limit    int      // page size; 0 uses the server default (500)
	Sort     string   // e.g. "-id" or "name"
	Search   string   // substring over all values; leading "-" negates
	Select   []string // fields to return
	Q        string   // Wazuh query language
	Distinct bool     // drop duplicates
}

// values renders the options with idParam as the name of the id filter.
func (o ListOptions) values(idParam string) url.Values {
	v := url.Values{}
	if len(o.IDs) > 0 {
		v.Set(idParam, joinInts(o.IDs))
	}
	setPaging(v, o.Offset, o.Limit, o.Sort, o.Search, o.Q, o.Select, o.Distinct)
	return v
}

// setPaging adds the shared list parameters that are set.
func setPaging(v url.Values, offset, limit int, sort, search, q string, sel []string, distinct bool) {
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	setStr(v, "sort", sort)
	setStr(v, "search", search)
	setStr(v, "q", q)
	setList(v, "select", sel)
	if distinct {
		v.Set("distinct", "true")
	}
}

func setStr(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

func setList(v url.Values, k string, l []string) {
	if len(l) > 0 {
		v.Set(k, strings.Join(l, ","))
	}
}

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}
