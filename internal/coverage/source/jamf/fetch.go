package jamf

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// page is one computers-inventory answer.
type page struct {
	TotalCount *int       `json:"totalCount"`
	Results    []computer `json:"results"`
}

// computer holds the fields of a ComputerInventory the mapping reads; the
// decoder skips the rest.
type computer struct {
	ID              jsonID          `json:"id"`
	UDID            string          `json:"udid"`
	General         general         `json:"general"`
	Hardware        hardware        `json:"hardware"`
	OperatingSystem operatingSystem `json:"operatingSystem"`
}

type general struct {
	Name             string `json:"name"`
	LastIPAddress    string `json:"lastIpAddress"`
	LastReportedIP   string `json:"lastReportedIp"`
	ReportDate       string `json:"reportDate"`
	LastContactTime  string `json:"lastContactTime"`
	RemoteManagement struct {
		Managed *bool `json:"managed"`
	} `json:"remoteManagement"`
	MDMCapable struct {
		Capable *bool `json:"capable"`
	} `json:"mdmCapable"`
	Site struct {
		ID   jsonID `json:"id"`
		Name string `json:"name"`
	} `json:"site"`
}

type hardware struct {
	SerialNumber  string `json:"serialNumber"`
	MacAddress    string `json:"macAddress"`
	AltMacAddress string `json:"altMacAddress"`
}

type operatingSystem struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Build   string `json:"build"`
}

// jsonID is an id Jamf sends as a string ("17"); a number is accepted too.
type jsonID string

// pageURL is the address of page n (no secret in it).
func (s *Source) pageURL(n int) string {
	q := url.Values{"section": sections, "page": {strconv.Itoa(n)},
		"page-size": {strconv.Itoa(s.pageSize)}, "sort": {"id:asc"}}
	if s.filter != "" {
		q.Set("filter", s.filter)
	}
	return s.base + "/api/" + s.version + "/computers-inventory?" + q.Encode()
}

// Fetch reads every computer, page by page.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	w := coverage.Walk{Source: s.name}
	var out []coverage.Record
	declared := -1
	for n := 0; ; n++ {
		if err := w.Page(strconv.Itoa(n)); err != nil {
			return nil, err
		}
		u := s.pageURL(n)
		p, readAt, err := s.readPage(ctx, u)
		if err != nil {
			return nil, s.wrap(fmt.Errorf("page %d: %w", n, err))
		}
		total := *p.TotalCount
		switch {
		case declared < 0:
			declared = total
			out = make([]coverage.Record, 0, min(total, 1<<20))
		case total < declared:
			return nil, s.wrap(fmt.Errorf("page %d: totalCount went from %d to %d: computers were deleted while the inventory was read, so others may have shifted past the walk; run again", n, declared, total))
		case total > declared:
			// Computers enrolled meanwhile; sorted by id they come last.
			declared = total
		}
		w.Declare(declared)
		if len(p.Results) > s.pageSize {
			return nil, s.wrap(fmt.Errorf("page %d holds %d computers, more than the page-size %d asked for; the server ignores paging", n, len(p.Results), s.pageSize))
		}
		if declared == 0 && len(p.Results) > 0 {
			return nil, s.wrap(fmt.Errorf("page %d: totalCount is 0 but the page holds %d computers", n, len(p.Results)))
		}
		req := "GET " + u
		for i := range p.Results {
			c := &p.Results[i]
			if c.ID == "" {
				return nil, s.wrap(fmt.Errorf("page %d: computer %d has no id", n, i))
			}
			if err := w.Record(string(c.ID)); err != nil {
				return nil, err
			}
			out = append(out, mapComputer(s.name, c, s.env, readAt, req))
		}
		progress(w.Count(), declared)
		if len(p.Results) == 0 || w.Count() >= declared {
			break
		}
	}
	if err := w.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

// readPage GETs one page with the cached token; a refused token is
// replaced once.
func (s *Source) readPage(ctx context.Context, u string) (*page, time.Time, error) {
	type answer struct {
		p      *page
		readAt time.Time
	}
	a, err := connauth.WithToken(ctx, s.cache, func(ctx context.Context, tok connauth.Token) (answer, bool, error) {
		resp, err := s.tr.Do(ctx, true, func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			r.Header.Set("Authorization", "Bearer "+tok.Value)
			r.Header.Set("Accept", "application/json")
			return r, nil
		})
		if err != nil {
			return answer{}, false, fmt.Errorf("GET %s: %w", u, err)
		}
		defer resp.Body.Close()
		readAt := s.now()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			se := &connauth.StatusError{Status: resp.StatusCode, Body: connauth.Snippet(body)}
			if resp.StatusCode == http.StatusUnauthorized {
				if s.session != nil {
					s.session.set(tok.Value, "") // refused: keep-alive cannot renew it
				}
				return answer{}, true, s.refused(se)
			}
			return answer{}, false, s.statusError(u, se)
		}
		p, err := decodePage(resp.Body, s.maxBody)
		if err != nil {
			return answer{}, false, fmt.Errorf("GET %s: %w", u, err)
		}
		return answer{p: p, readAt: readAt}, false, nil
	})
	return a.p, a.readAt, err
}

// refused says what to do when even a fresh token was refused.
func (s *Source) refused(se *connauth.StatusError) error {
	if s.session != nil {
		return fmt.Errorf("%w: a fresh token of user %s was refused too (%v); check that the account is enabled and has the Read Computers privilege", connauth.ErrLoginRefused, s.session.user, se)
	}
	return fmt.Errorf("%w: a fresh token of API client %s was refused too (%v); check that the API client is enabled and its API role has Read Computers", connauth.ErrLoginRefused, s.clientID, se)
}

func (s *Source) statusError(u string, se *connauth.StatusError) error {
	switch se.Status {
	case http.StatusForbidden:
		return fmt.Errorf("GET %s: %w; the account or API role lacks the Read Computers privilege", u, se)
	case http.StatusNotFound:
		return fmt.Errorf("GET %s: %w; this Jamf Pro has no /api/%s/computers-inventory: check url, and set api_version (v1 needs Jamf Pro 10.39 or later and is deprecated; v3 needs 11.23 or later)", u, se, s.version)
	}
	return fmt.Errorf("GET %s: %w", u, se)
}
