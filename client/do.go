package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Response is Wazuh's success envelope; pass a *Response[T] to Do to decode it.
type Response[T any] struct {
	Data    T      `json:"data"`
	Message string `json:"message"`
	Error   int    `json:"error"`
}

// RawBody is a request body sent as-is with its own Content-Type (for example agent.conf as application/xml).
type RawBody struct {
	ContentType string
	Data        []byte
}

// Do sends an authenticated request to path (escaped, relative to the base URL) and decodes the answer into out.
//
// body is sent as JSON unless it is a RawBody, []byte or io.Reader. out may be
// nil, *[]byte or *string (raw body), or anything encoding/json decodes the whole
// body into, typically a *Response[T]. Answers other than 2xx become *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	req, err := newRequest(method, path, query, body)
	if err != nil {
		return err
	}
	if _, raw := out.(*[]byte); raw {
		req.accept = "*/*"
	}
	if _, raw := out.(*string); raw {
		req.accept = "*/*"
	}
	resp, err := c.exec(ctx, req)
	if err != nil {
		return err
	}
	return c.decode(req, resp, out)
}

// newRequest prepares the method, path and body of a call.
func newRequest(method, path string, query url.Values, body any) (*request, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req := &request{method: strings.ToUpper(method), path: path, query: query, accept: "application/json"}
	switch b := body.(type) {
	case nil:
	case RawBody:
		req.body, req.contentType = b.Data, b.ContentType
	case *RawBody:
		req.body, req.contentType = b.Data, b.ContentType
	case []byte:
		req.body, req.contentType = b, "application/json"
	case io.Reader:
		data, err := io.ReadAll(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading request body: %w", method, path, err)
		}
		req.body, req.contentType = data, "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encoding request body: %w", method, path, err)
		}
		req.body, req.contentType = data, "application/json"
	}
	return req, nil
}

// exec sends an authenticated request; on 401 it logs in again and retries once.
func (c *Client) exec(ctx context.Context, req *request) (*response, error) {
	st, err := c.tokens.get(ctx, 0)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(ctx, req, st.token)
	if err != nil || resp.status != http.StatusUnauthorized {
		return resp, err
	}
	first := c.errorFrom(req, resp)
	c.log.Info("token refused, logging in again and retrying once", "method", req.method, "path", req.path, "detail", first.Detail)
	c.tokens.reject(st.gen)
	fresh, err := c.tokens.get(ctx, st.gen)
	if err != nil {
		return nil, err
	}
	resp, err = c.roundTrip(ctx, req, fresh.token)
	if err != nil || resp.status != http.StatusUnauthorized {
		return resp, err
	}
	c.tokens.reject(fresh.gen)
	e := c.errorFrom(req, resp)
	e.kind = kindTokenRejected
	e.Remediation = tokenRejectedRemediation(e.Detail)
	return nil, e
}

// tokenRejectedRemediation explains a 401 on a token that a successful login just produced.
func tokenRejectedRemediation(detail string) string {
	const credsOK = " The credentials are valid: the login itself succeeded."
	switch {
	case strings.Contains(detail, "Token expired"):
		return "a token from a fresh login was refused as expired: the security configuration (auth_token_exp_timeout or rbac_mode) changed after it was issued, or the manager's clock is far off." + credsOK
	case strings.Contains(detail, "No authorization token"):
		return "the manager did not receive the Authorization header: a proxy between client and manager strips it." + credsOK
	}
	return "a token from a fresh login was refused at once: tokens are being revoked (PUT /security/user/revoke, security configuration changes, logout, role or password changes of this user), or a load balancer sends requests to another cluster node whose API keys differ." + credsOK
}

// decode turns an answer into out or into an *Error.
func (c *Client) decode(req *request, resp *response, out any) error {
	if resp.status < 200 || resp.status > 299 {
		return c.errorFrom(req, resp)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = resp.body
		return nil
	case *string:
		*o = string(resp.body)
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return decodeError(req, resp, err)
	}
	return nil
}

// errorFrom builds the *Error for an error answer, adding what needs the clock.
func (c *Client) errorFrom(req *request, resp *response) *Error {
	e := ParseError(req.method, req.path, resp.status, resp.header.Get("Content-Type"), resp.body)
	if resp.status == http.StatusTooManyRequests {
		if d, ok := retryAfter(resp.header, c.now()); ok {
			e.RetryAt = c.now().Add(d)
		}
	}
	if loc := resp.header.Get("Location"); loc != "" && resp.status >= 300 && resp.status < 400 {
		e.Detail = "redirected to " + loc
	}
	return e
}

// decodeError describes a 2xx body that could not be decoded.
func decodeError(req *request, resp *response, err error) *Error {
	ct := resp.header.Get("Content-Type")
	e := &Error{Status: resp.status, Method: req.method, Path: req.path, ContentType: ct,
		Title: "Undecodable response", Err: err, kind: kindBadResponse}
	trimmed := strings.TrimSpace(string(resp.body))
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		e.Detail = describeForeignBody(ct, resp.body)
		e.Remediation = "the answer does not come from the Wazuh API: check that the URL points at the manager's API port (55000) and not at a proxy or the dashboard"
		return e
	}
	e.Detail = fmt.Sprintf("cannot decode the JSON answer (%v); received %d bytes of %s starting with %s",
		err, len(resp.body), orUnknown(ct), quoteSnippet(resp.body))
	e.Remediation = "the body was cut short or has an unexpected shape: retry, check proxies in between, or the manager version"
	return e
}
