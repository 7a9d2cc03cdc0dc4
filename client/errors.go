package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels for errors.Is; an *Error matches the ones that describe it.
var (
	ErrUnauthorized       = errors.New("unauthorized")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrTokenRejected      = errors.New("token rejected right after a fresh login")
	ErrForbidden          = errors.New("forbidden")
	ErrBlocked            = errors.New("login blocked")
	ErrRateLimited        = errors.New("rate limited")
	ErrNotFound           = errors.New("not found")
	ErrResponseTooLarge   = errors.New("response too large")
	ErrBadResponse        = errors.New("response is not what the API sends")
	ErrConnection         = errors.New("connection failed")
)

// Wazuh error codes the client reacts to.
const (
	CodeIPBlocked   = 6000
	CodeRateLimited = 6001
	CodeEventsLimit = 6005
)

// errKind refines what the client knows beyond status and code.
type errKind int

const (
	kindNone errKind = iota
	kindInvalidCredentials
	kindTokenRejected
	kindBlocked
	kindNotFound
	kindTooLarge
	kindBadResponse
	kindConnection
)

// notFoundCodes are Wazuh codes that mean "this resource does not exist".
var notFoundCodes = map[int]bool{1701: true, 1710: true, 4002: true, 4007: true, 4022: true, 5001: true}

// Error is a failed API call: an HTTP error answer, a failed item, an undecodable body or a connection failure.
type Error struct {
	Status      int       // HTTP status; 0 when no response was received
	Code        int       // Wazuh "error" code; 0 when the body has none
	Title       string    // problem title, e.g. "Unauthorized"
	Detail      string    // what went wrong
	Remediation string    // what to do about it
	Method      string    // request method
	Path        string    // request path, without the query
	ContentType string    // Content-Type of the response, if any
	RetryAt     time.Time // when a retry may succeed (rate limit, login block); zero if unknown
	Err         error     // underlying cause (network, JSON), if any
	kind        errKind
}

// Error renders the failure on one line, remediation included.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wazuh api")
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, ": %s %s", e.Method, e.Path)
	}
	switch {
	case e.Status > 0:
		fmt.Fprintf(&b, ": %d", e.Status)
		if e.Title != "" {
			b.WriteString(" " + e.Title)
		}
	case e.Title != "":
		b.WriteString(": " + e.Title)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (error %d)", e.Code)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil && !strings.Contains(e.Detail, e.Err.Error()) {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Remediation != "" {
		b.WriteString("; " + e.Remediation)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the package sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.kind == kindInvalidCredentials || e.kind == kindTokenRejected
	case ErrInvalidCredentials:
		return e.kind == kindInvalidCredentials
	case ErrTokenRejected:
		return e.kind == kindTokenRejected
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrBlocked:
		return e.Code == CodeIPBlocked || e.kind == kindBlocked
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests || e.Code == CodeRateLimited || e.Code == CodeEventsLimit
	case ErrNotFound:
		return e.Status == http.StatusNotFound || notFoundCodes[e.Code] || e.kind == kindNotFound
	case ErrResponseTooLarge:
		return e.kind == kindTooLarge
	case ErrBadResponse:
		return e.kind == kindBadResponse
	case ErrConnection:
		return e.kind == kindConnection
	}
	return false
}

// IsUnauthorized reports whether err is a 401: bad credentials or a rejected token.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether err is a 403 (RBAC denial or IP block).
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsBlocked reports whether logins are blocked for this IP (Wazuh error 6000).
func IsBlocked(err error) bool { return errors.Is(err, ErrBlocked) }

// IsRateLimited reports whether the manager refused the request for exceeding max_request_per_minute.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// IsNotFound reports whether the path or resource (agent, group, user, role, policy, rule) does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// remediations for answers whose body carries none.
func defaultRemediation(e *Error) string {
	switch {
	case e.Code == CodeIPBlocked:
		return "the manager blocks logins from this IP after access.max_login_attempts failed logins (default 50) for access.block_time seconds (default 300) counted from the first failure; fix the credentials and wait, or restart wazuh-api to clear the block"
	case e.Status == http.StatusUnauthorized && strings.Contains(e.Detail, "credentials"):
		return "check the user name and password"
	case e.Status == http.StatusUnauthorized && strings.Contains(e.Detail, "No authorization token"):
		return "the Authorization header did not reach the API: a proxy in between may strip it"
	case e.Status == http.StatusUnauthorized:
		return "the token expired or was revoked (logout, revoke, password or security configuration change); log in again"
	case e.Status == http.StatusTooManyRequests:
		return "the manager allows access.max_request_per_minute requests per minute (default 300) for all clients together; slow down or raise the limit in api.yaml"
	case e.Status == http.StatusNotFound && e.Code == 0:
		return "no such path on this server: check the base URL (scheme, host, port 55000, no extra path) and that the manager runs Wazuh 4.x"
	case e.Status == http.StatusMethodNotAllowed:
		return "the server does not accept this method here: the manager may run a different Wazuh version"
	case e.Status == http.StatusNotImplemented:
		return "the server does not implement this endpoint"
	case e.Status >= 300 && e.Status < 400:
		return "the Wazuh API never redirects: the URL probably points at a proxy, the dashboard or a login page"
	}
	return ""
}
