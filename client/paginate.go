package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
)

// MaxPageSize is the largest limit the Wazuh API accepts.
const MaxPageSize = 100000

// PageOption tunes AllAgents.
type PageOption func(*pageConfig)

type pageConfig struct {
	strategy int // 0 automatic, 1 keyset, 2 offset
	progress func(done, total int)
}

// PageByKeyset walks by id ("id>N" ANDed with the query's Q, sorted by id): stable when agents are added or removed during the walk.
func PageByKeyset() PageOption { return func(p *pageConfig) { p.strategy = 1 } }

// PageByOffset walks with offset/limit in the query's sort order; concurrent changes can skip or repeat agents.
func PageByOffset() PageOption { return func(p *pageConfig) { p.strategy = 2 } }

// PageProgress calls fn after each page with the agents yielded so far and the current estimate of the total.
func PageProgress(fn func(done, total int)) PageOption {
	return func(p *pageConfig) { p.progress = fn }
}

// AllAgents yields every agent matching q, fetching pageSize agents per request (0 means 500).
//
// By default it pages by keyset when q.Sort is empty and by offset otherwise.
// Failed items (unknown ids in q.AgentsList) are yielded once as an error; the
// walk goes on if the caller keeps ranging. Any other error ends the walk.
func (c *Client) AllAgents(ctx context.Context, q AgentQuery, pageSize int, opts ...PageOption) iter.Seq2[Agent, error] {
	cfg := pageConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if pageSize <= 0 {
		pageSize = 500
	}
	pageSize = min(pageSize, MaxPageSize)
	keyset := cfg.strategy == 1 || (cfg.strategy == 0 && q.Sort == "")
	return func(yield func(Agent, error) bool) {
		if keyset {
			if err := keysetCompatible(q); err != nil {
				yield(Agent{}, err)
				return
			}
		}
		userQ, offset := q.Q, q.Offset
		lastID, done := -1, 0
		reportedFailures := false
		for {
			pq := q
			pq.Limit = pageSize
			if keyset {
				pq.Offset, pq.Sort, pq.Q = 0, "id", keysetQuery(userQ, lastID)
			} else {
				pq.Offset = offset
			}
			page, err := c.ListAgents(ctx, pq)
			if err != nil {
				yield(Agent{}, err)
				return
			}
			if ferr := page.Failed(); ferr != nil && !reportedFailures {
				reportedFailures = true
				if !yield(Agent{}, ferr) {
					return
				}
			}
			before := done
			for _, a := range page.AffectedItems {
				done++
				if !yield(a, nil) {
					return
				}
			}
			n := len(page.AffectedItems)
			if cfg.progress != nil {
				if keyset {
					cfg.progress(done, before+page.TotalAffectedItems)
				} else {
					cfg.progress(done, max(page.TotalAffectedItems-q.Offset, done))
				}
			}
			if n == 0 {
				return
			}
			if !keyset {
				offset += n
				if offset >= page.TotalAffectedItems {
					return
				}
				continue
			}
			id, err := strconv.Atoi(page.AffectedItems[n-1].ID)
			if err != nil || id <= lastID {
				yield(Agent{}, fmt.Errorf("keyset paging: the server returned id %q after %d; it must sort by numeric id (use PageByOffset)", page.AffectedItems[n-1].ID, lastID))
				return
			}
			lastID = id
			if n >= page.TotalAffectedItems {
				return
			}
		}
	}
}

// keysetCompatible refuses queries whose order or window conflicts with keyset paging.
func keysetCompatible(q AgentQuery) error {
	switch {
	case q.Sort != "" && q.Sort != "id" && q.Sort != "+id":
		return errors.New("keyset paging sorts by id: leave Sort empty or use PageByOffset")
	case q.Offset != 0:
		return errors.New("keyset paging does not use Offset: leave it 0 or use PageByOffset")
	case q.Distinct:
		return errors.New("keyset paging needs ids, which distinct=true drops: use PageByOffset")
	}
	return nil
}

// keysetQuery ANDs "id>lastID" with the user's query, which is parenthesised so
// that a top-level OR in it cannot escape the id bound (Wazuh does not add the
// parentheses itself).
func keysetQuery(userQ string, lastID int) string {
	if userQ != "" {
		userQ = "(" + userQ + ")"
	}
	if lastID < 0 {
		return userQ
	}
	bound := "id>" + strconv.Itoa(lastID)
	if userQ == "" {
		return bound
	}
	return userQ + ";" + bound
}
