package crowdstrike

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// Fetch reads every host the filter selects (all hosts without one).
//
// Each scroll page of ids is read in full before the next page is asked
// for, so the scroll token (valid for 2 minutes) is used within seconds, and
// memory holds one page of details at a time besides the records.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	w := coverage.Walk{Source: s.name}
	var out []coverage.Record
	offset := ""
	for page := 1; ; page++ {
		if err := w.Page(offset); err != nil {
			return nil, err
		}
		ids, next, total, err := s.scroll(ctx, offset)
		if err != nil {
			if offset != "" {
				err = fmt.Errorf("%w (page %d; a scroll token is valid for 2 minutes)", err, page)
			}
			return nil, s.wrap(err)
		}
		w.Declare(total)
		if out == nil && total > 0 {
			out = make([]coverage.Record, 0, min(total, 1<<20)) // grown once, not a quarter at a time
		}
		for _, id := range ids {
			if id == "" {
				return nil, s.wrap(fmt.Errorf("page %d of the host list holds an empty id", page))
			}
			if err := w.Record(id); err != nil {
				return nil, err
			}
		}
		for start := 0; start < len(ids); start += s.batch {
			out, err = s.details(ctx, ids[start:min(start+s.batch, len(ids))], out)
			if err != nil {
				return nil, s.wrap(err)
			}
		}
		progress(w.Count(), total)
		if len(ids) == 0 || next == "" || (total >= 0 && w.Count() >= total) {
			break
		}
		offset = next
	}
	if err := w.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

// scroll reads one page of host ids; total is -1 when the answer has none.
func (s *Source) scroll(ctx context.Context, offset string) (ids []string, next string, total int, err error) {
	q := url.Values{"limit": {strconv.Itoa(s.pageSize)}}
	if offset != "" {
		q.Set("offset", offset)
	}
	if s.filter != "" {
		q.Set("filter", s.filter)
	}
	var env envelope[fstr]
	a, err := s.call(ctx, "GET", s.scrollURL+"?"+q.Encode(), nil, &env)
	if err != nil {
		return nil, "", 0, err
	}
	if len(env.Errors) > 0 {
		return nil, "", 0, fmt.Errorf("%s: Falcon answered errors: %s", a.request, errorsText(env.Errors))
	}
	if env.Meta.Pagination == nil {
		return nil, "", 0, fmt.Errorf("%s: the answer has no meta.pagination; is url the Falcon API?", a.request)
	}
	total = -1
	if t := env.Meta.Pagination.Total; t != nil {
		if *t < 0 || *t > 1<<40 {
			return nil, "", 0, fmt.Errorf("%s: meta.pagination.total is %d, not a count", a.request, *t)
		}
		total = int(*t)
	}
	ids = make([]string, len(env.Resources))
	for i, r := range env.Resources {
		ids[i] = string(r)
	}
	return ids, string(env.Meta.Pagination.Offset), total, nil
}

// details reads the hosts of ids and appends their records to out. Every id
// must come back exactly once: a host missing from the answer would become a
// missing agent.
func (s *Source) details(ctx context.Context, ids []string, out []coverage.Record) ([]coverage.Record, error) {
	body, err := json.Marshal(map[string][]string{"ids": ids})
	if err != nil {
		return nil, err
	}
	var env envelope[device]
	a, err := s.call(ctx, "POST", s.detailURL, body, &env)
	if err != nil {
		return nil, err
	}
	if len(env.Errors) > 0 {
		return nil, fmt.Errorf("%s: Falcon answered errors for %d of %d hosts: %s", a.request, len(env.Errors), len(ids), errorsText(env.Errors))
	}
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	for _, d := range env.Resources {
		id := string(d.DeviceID)
		seen, ok := asked[id]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: the answer holds host %q, which was not asked for", a.request, id)
		case !seen:
			return nil, fmt.Errorf("%s: the answer holds host %q twice", a.request, id)
		}
		asked[id] = false
	}
	if len(env.Resources) < len(ids) {
		var missing []string
		for _, id := range ids {
			if asked[id] {
				missing = append(missing, id)
			}
		}
		ex := missing[:min(3, len(missing))]
		return nil, fmt.Errorf("%s: the details of %d listed hosts did not come back (%s): a host may have been removed during the run; run again",
			a.request, len(missing), strings.Join(ex, ", "))
	}
	request := a.request + " (" + strconv.Itoa(len(ids)) + " ids)"
	return appendDevices(out, s.name, env.Resources, a.readAt, request, s.env), nil
}

func (s *Source) wrap(err error) error {
	return fmt.Errorf("crowdstrike source %s: %w", s.name, err)
}
