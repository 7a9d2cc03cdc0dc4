package ninjaone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// wrapLogin names the source and says what to check when a login fails.
// The client secret is cut out of any message (a token endpoint may echo
// the form it was sent).
func (s *Source) wrapLogin(login func(context.Context) (connauth.Token, error), secret string) func(context.Context) (connauth.Token, error) {
	return func(ctx context.Context) (connauth.Token, error) {
		tok, err := login(ctx)
		if errors.Is(err, connauth.ErrLoginRefused) {
			err = fmt.Errorf("%w; NinjaOne refused the API client app %s: check that it exists on this instance (region/url), that its secret is current and that Client Credentials is among its allowed grant types", err, s.clientID)
		}
		if err != nil {
			return tok, redact(err, secret)
		}
		s.log.Debug("ninjaone: token issued", "source", s.name, "client_id", s.clientID, "expiry", tok.Expiry)
		return tok, nil
	}
}

// redactedError is an error whose message had a secret cut out. It
// unwraps to the sentinels the original matched (ErrLoginRefused, a
// cancelled context), never to the original with its message.
type redactedError struct {
	msg  string
	errs []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.errs }

// redact replaces secret in err's message (and in its URL-encoded form).
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	out := strings.ReplaceAll(msg, secret, "[client secret]")
	if q := url.QueryEscape(secret); q != secret {
		out = strings.ReplaceAll(out, q, "[client secret]")
	}
	if out == msg {
		return err
	}
	var errs []error
	for _, e := range []error{connauth.ErrLoginRefused, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			errs = append(errs, e)
		}
	}
	return &redactedError{msg: out, errs: errs}
}

// errUnauthorized marks an API answer of 401 to a token.
var errUnauthorized = errors.New("the API answered 401 Unauthorized")

// Fetch reads every device (those df selects, when it is set).
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	walk := coverage.Walk{Source: s.name}
	walk.Declare(-1) // the API gives no total
	var out []coverage.Record
	after := 0 // 0: the first page, sent without after
	for {
		cursor := ""
		if after > 0 {
			cursor = strconv.Itoa(after)
		}
		if err := walk.Page(cursor); err != nil {
			return nil, err
		}
		pg, err := s.page(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("ninjaone source %s: %w (after %d devices)", s.name, err, walk.Count())
		}
		if len(pg.devices) == 0 {
			break
		}
		if err := checkOrder(pg.devices, after); err != nil {
			return nil, fmt.Errorf("ninjaone source %s: %s: %w", s.name, pg.request, err)
		}
		n := len(out)
		out = mapDevices(out, s.name, pg.devices, pg.readAt, pg.request, s.env)
		for _, r := range out[n:] {
			if err := walk.Record(r.ID); err != nil {
				return nil, err
			}
		}
		after = pg.devices[len(pg.devices)-1].ID
		progress(walk.Count(), -1)
	}
	if err := walk.Done(); err != nil {
		return nil, err
	}
	progress(walk.Count(), walk.Count())
	return out, nil
}

// checkOrder checks that a page's ids ascend and start after the cursor, as
// after=<last id> paging needs: otherwise the next cursor would skip or
// repeat devices.
func checkOrder(devs []apiDevice, after int) error {
	prev := after
	for i, d := range devs {
		if d.ID <= prev {
			if i == 0 {
				return fmt.Errorf("the page's first device id %d is not above after=%d: the API is not paging by device id as documented, so the walk stopped rather than report a partial list", d.ID, after)
			}
			return fmt.Errorf("device id %d follows id %d on one page: the ids do not ascend, so after=<last id> paging would skip or repeat devices; the walk stopped", d.ID, prev)
		}
		prev = d.ID
	}
	return nil
}

// page is one answer of /v2/devices-detailed.
type page struct {
	devices []apiDevice
	readAt  time.Time
	request string
}

// pageURL is the address of the page after the device id after (0: the first).
func (s *Source) pageURL(after int) string {
	q := url.Values{}
	q.Set("pageSize", strconv.Itoa(s.pageSize))
	if after > 0 {
		q.Set("after", strconv.Itoa(after))
	}
	if s.df != "" {
		q.Set("df", s.df)
	}
	return s.base + "/v2/devices-detailed?" + q.Encode()
}

// page reads one page with the cached token, logging in once more after a 401.
func (s *Source) page(ctx context.Context, after int) (page, error) {
	u := s.pageURL(after)
	req := "GET " + u
	pg, err := connauth.WithToken(ctx, s.cache, func(ctx context.Context, tok connauth.Token) (page, bool, error) {
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
			return page{}, false, fmt.Errorf("%s: %w", req, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			return page{}, true, fmt.Errorf("%s: %w", req, errUnauthorized)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return page{}, false, fmt.Errorf("%s: %w", req, statusHint(resp.StatusCode, b))
		}
		readAt := s.now()
		s.bufMu.Lock()
		devs, err := decodePageSized(resp.Body, s.maxBody, resp.ContentLength, &s.buf)
		s.bufMu.Unlock()
		if err != nil {
			return page{}, false, fmt.Errorf("%s: %w", req, err)
		}
		return page{devices: devs, readAt: readAt, request: req}, false, nil
	})
	if errors.Is(err, errUnauthorized) {
		return pg, fmt.Errorf("%w; a freshly issued token was refused too: %w: check that the API client app %s has the Monitoring scope and that region/url names the instance it belongs to", err, connauth.ErrLoginRefused, s.clientID)
	}
	return pg, err
}

// statusHint explains a final answer that is not 200.
func statusHint(status int, body []byte) error {
	err := &connauth.StatusError{Status: status, Body: connauth.Snippet(body)}
	switch status {
	case http.StatusForbidden:
		return fmt.Errorf("%w; the token lacks a permission: give the API client app the Monitoring scope (and scopes: [monitoring] if set)", err)
	case http.StatusNotFound:
		return fmt.Errorf("%w; is url the NinjaOne instance's address (e.g. https://app.ninjarmm.com)?", err)
	case http.StatusBadRequest:
		return fmt.Errorf("%w; check df (the device filter)", err)
	}
	return err
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}
