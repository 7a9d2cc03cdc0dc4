// Package connauth is the transport and authentication every coverage
// connector shares: an HTTP client built from the source's TLS, proxy and
// timeout settings; requests retried with exponential backoff and full jitter
// on 429 and transient failures, honouring Retry-After and the vendors'
// rate-limit headers, always bounded by the caller's context; a request
// budget per source, and a pause of every request of the source once the
// server has asked for one (a 429, or no requests remaining in the window),
// so that a run does not trip a vendor's limit twice; a token cache that
// logs in once for all concurrent callers, renews before expiry and is
// dropped after a 401 so that exactly one re-authentication follows; and the
// OAuth2 client-credentials grant (golang.org/x/oauth2/clientcredentials)
// as a login for that cache.
//
// Logins themselves are never retried on a refusal: several vendors lock an
// account after a handful of bad passwords (Zabbix: five, for 30 s), and a
// retry would make the lockout longer.
package connauth
