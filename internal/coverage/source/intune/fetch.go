package intune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// Fetch reads every managed device, page by page, following each page's
// @odata.nextLink exactly as Graph gives it. Graph's @odata.count is not
// used as a total: managedDevices does not document $count, and Intune
// answers it with the size of the page rather than of the collection.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	walk := coverage.Walk{Source: s.name}
	walk.Declare(-1)
	var out []coverage.Record
	progress(0, -1)
	pages := 0
	for next := s.first; next != ""; {
		if err := walk.Page(next); err != nil {
			return nil, err
		}
		pages++
		pg, err := s.page(ctx, next)
		if err != nil {
			return nil, fmt.Errorf("intune source %s: %w (page %d, after %d devices)", s.name, err, pages, len(out))
		}
		if cap(out)-len(out) < len(pg.Value) {
			// double, not append's quarter: 100,000 records grown a
			// quarter at a time were copied four times over
			out = slices.Grow(out, max(len(out), len(pg.Value)))
		}
		request := "GET " + next
		for i := range pg.Value {
			d := &pg.Value[i]
			if d.ID == "" {
				return nil, fmt.Errorf("intune source %s: GET %s: device %d of the page has no id", s.name, next, i+1)
			}
			if err := walk.Record(d.ID); err != nil {
				return nil, err
			}
			r, err := mapDevice(s.name, d, pg.readAt, request, s.env.Fresh)
			if err != nil {
				return nil, fmt.Errorf("intune source %s: GET %s: %w", s.name, next, err)
			}
			out = append(out, r)
		}
		progress(len(out), -1)
		if next, err = s.checkNext(pg.NextLink); err != nil {
			return nil, fmt.Errorf("intune source %s: %w", s.name, err)
		}
	}
	if err := walk.Done(); err != nil {
		return nil, err
	}
	s.log.Debug("intune: read managed devices", "source", s.name, "devices", len(out), "pages", pages,
		"retries", s.tr.RetryCount(), "throttled", s.tr.RateLimited())
	return out, nil
}

// checkNext accepts a next link only on the configured Graph root: the
// token is sent with it, and a link to another host would hand it over.
func (s *Source) checkNext(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("Graph sent an @odata.nextLink that is not a URL (%s); the walk stopped", connauth.Snippet([]byte(link)))
	}
	if u.Scheme != s.root.Scheme || !strings.EqualFold(u.Host, s.root.Host) || u.User != nil {
		return "", fmt.Errorf("Graph sent an @odata.nextLink to %s://%s, not to the configured %s; muster does not send its token elsewhere, so the walk stopped", u.Scheme, u.Host, s.root)
	}
	return link, nil
}

// page is one decoded page of managedDevices.
type page struct {
	Value    []apiDevice
	NextLink string
	readAt   time.Time
}

// page reads one page with the cached token; a 401 is followed by one new login.
func (s *Source) page(ctx context.Context, link string) (page, error) {
	pg, err := connauth.WithToken(ctx, s.tokens, func(ctx context.Context, tok connauth.Token) (page, bool, error) {
		resp, err := s.tr.Do(ctx, true, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok.Value)
			req.Header.Set("Accept", "application/json")
			return req, nil
		})
		if err != nil {
			return page{}, false, err
		}
		defer resp.Body.Close()
		readAt := s.now()
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			return page{}, true, graphError(resp, "")
		case resp.StatusCode == http.StatusForbidden:
			return page{}, false, graphError(resp, "; the app registration needs the Microsoft Graph application permission "+Permission+" with admin consent, and the tenant an Intune licence")
		case resp.StatusCode == http.StatusBadRequest:
			return page{}, false, graphError(resp, "; check filter (an OData expression on managedDevice properties) and api_version")
		case resp.StatusCode != http.StatusOK:
			return page{}, false, graphError(resp, "")
		}
		pg, err := decodePage(resp.Body, s.maxBody)
		if err != nil {
			return page{}, false, err
		}
		pg.readAt = readAt
		return pg, false, nil
	})
	if err != nil {
		var ge *apiError
		if errors.As(err, &ge) && ge.status == http.StatusUnauthorized {
			return page{}, fmt.Errorf("%w: Graph refused a freshly issued token too: %v; check that the app registration belongs to the configured tenant and cloud (url, tenant or token_url) and has the application permission %s",
				connauth.ErrLoginRefused, err, Permission)
		}
		return page{}, err
	}
	return pg, nil
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// apiError is a Graph error answer: {"error":{"code":"...","message":"..."}}.
type apiError struct {
	status  int
	code    string
	message string
	hint    string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("HTTP %d ", e.status)
	if e.code != "" {
		s += e.code // Graph's code says more than the status text
	} else {
		s += http.StatusText(e.status)
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s + e.hint
}

// graphError reads an error answer's code and message (or the start of a
// body that is not a Graph error).
func graphError(resp *http.Response, hint string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &apiError{status: resp.StatusCode, hint: hint}
	var ans struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &ans) == nil && (ans.Error.Code != "" || ans.Error.Message != "") {
		e.code = connauth.Snippet([]byte(ans.Error.Code))
		e.message = connauth.Snippet([]byte(ans.Error.Message))
	} else {
		e.message = connauth.Snippet(body)
	}
	return e
}
