// Package client is a Go SDK for the Wazuh 4.x server API (port 55000) that
// also speaks to muster's own manager, which uses the same wire format.
//
// It treats authentication as a renewable capability rather than a one-off
// step: the token is obtained with HTTP Basic credentials, cached in memory,
// refreshed before its exp claim (measured on the local clock, so clock skew
// between client and manager does not matter), obtained by at most one login
// at a time, and renewed exactly once when the manager answers 401. Failed
// logins are never retried because Wazuh counts them towards its per-IP
// brute-force block; a block (403, error 6000) suspends every login of the
// Client until the block can have expired.
//
// Requests that hit the rate limit (429) or a transient failure are retried
// with exponential backoff and full jitter, honouring Retry-After when the
// server sends it; 5xx answers are retried only for GET and HEAD.
//
// Every failure is an *Error carrying the HTTP status, the Wazuh error code,
// title, detail and a remediation that says what to do. Bodies that are not
// Wazuh JSON (a proxy's HTML page, a truncated response) are described rather
// than reported as a bare JSON syntax error. Use the predicates IsUnauthorized,
// IsForbidden, IsBlocked, IsRateLimited and IsNotFound, or errors.Is with the
// Err* sentinels, instead of matching messages.
//
// The package depends on the standard library only.
package client
