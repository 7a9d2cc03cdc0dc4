package connauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials is an OAuth2 client-credentials grant (RFC 6749 §4.4),
// the login of most SaaS APIs (CrowdStrike, Entra for Graph, Jamf Pro API
// clients, NinjaOne).
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
	TokenURL     string
	Scopes       []string
	// Params are extra form fields some vendors want (e.g. CrowdStrike's
	// member_cid).
	Params url.Values
	// InHeader sends the client's id and secret as HTTP Basic instead of
	// form fields. It is never auto-detected: detection costs a refused login
	// per run, and refused logins are what lock accounts.
	InHeader bool
}

// Login returns a TokenCache login that runs the grant through t (its TLS,
// proxy and timeout settings). The token's expiry is taken from expires_in
// on t's clock; a token without expires_in has an unknown expiry and is
// renewed after the API refuses it. A 429 or 5xx from the token endpoint is
// retried as Do retries (Retry-After honoured); a refusal (400, 401, 403:
// invalid_client and the like) never is, and wraps ErrLoginRefused.
func (cc ClientCredentials) Login(t *Transport) func(ctx context.Context) (Token, error) {
	style := oauth2.AuthStyleInParams
	if cc.InHeader {
		style = oauth2.AuthStyleInHeader
	}
	cfg := clientcredentials.Config{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret,
		TokenURL: cc.TokenURL, Scopes: cc.Scopes, EndpointParams: cc.Params, AuthStyle: style}
	return func(ctx context.Context) (Token, error) {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, t.HTTP)
		attempts := max(t.Retry.Attempts, 1)
		for try := 0; ; try++ {
			if err := t.gate(ctx); err != nil {
				return Token{}, err
			}
			start := t.now()
			tok, err := cfg.Token(ctx)
			if err == nil {
				return t.token(tok, start)
			}
			if ctx.Err() != nil {
				return Token{}, ctx.Err()
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response == nil {
				// A network failure, or an answer that is not a token at all.
				return Token{}, fmt.Errorf("token endpoint %s: %s", cc.TokenURL, oauthMessage(err))
			}
			status := re.Response.StatusCode
			msg := fmt.Sprintf("token endpoint %s answered HTTP %d", cc.TokenURL, status)
			if code := re.ErrorCode; code != "" {
				msg += " " + code
				if re.ErrorDescription != "" {
					msg += ": " + re.ErrorDescription
				}
			} else if b := Snippet(re.Body); b != "" {
				msg += ": " + b
			}
			switch {
			case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
				return Token{}, fmt.Errorf("%w: %s; check client_id and the client secret, and that the client is enabled", ErrLoginRefused, msg)
			case status != http.StatusTooManyRequests && status < 500:
				return Token{}, errors.New(msg)
			case try == attempts-1:
				return Token{}, fmt.Errorf("%s (gave up after %d tries)", msg, attempts)
			}
			t.count()
			wait, asked := t.noteLimit(re.Response.Header, status)
			if !asked {
				wait = t.backoff(try)
			}
			if wait > t.maxWait() {
				return Token{}, fmt.Errorf("%s; it asks to wait %s, longer than the %s this run waits", msg, wait, t.maxWait())
			}
			if err := t.sleep(ctx, wait); err != nil {
				return Token{}, err
			}
		}
	}
}

// token converts an issued token, its expiry counted from when the request
// was sent (the server's clock is never consulted, so skew does not matter).
func (t *Transport) token(tok *oauth2.Token, sent time.Time) (Token, error) {
	if tok.AccessToken == "" {
		return Token{}, errors.New("the token endpoint answered without an access_token")
	}
	if tt := strings.ToLower(tok.TokenType); tt != "" && tt != "bearer" {
		return Token{}, fmt.Errorf("the token endpoint issued a %q token; muster sends bearer tokens only", tok.TokenType)
	}
	out := Token{Value: tok.AccessToken}
	if n := expiresIn(tok.Extra("expires_in")); n > 0 {
		out.Expiry = sent.Add(seconds(n))
	}
	return out, nil
}

// expiresIn reads expires_in as the answer carried it: a JSON number, or a
// string (some vendors' JSON), or what a form-encoded answer parses to; 0 when absent or bad.
func expiresIn(v any) int64 {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case json.Number:
		f, _ = x.Float64()
	case string:
		f, _ = strconv.ParseFloat(x, 64)
	}
	if f < 1 || f > 1e9 || f != f {
		return 0
	}
	return int64(f)
}

// oauthMessage says what went wrong with a token answer in a user's terms.
func oauthMessage(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "missing access_token"):
		return "the answer holds no access_token (is token_url the vendor's token endpoint?)"
	case strings.Contains(s, "cannot parse json"), strings.Contains(s, "cannot unmarshal"):
		return "the answer is not a JSON token answer (is token_url the vendor's token endpoint, not a login page?): " + strings.TrimPrefix(s, "oauth2: ")
	}
	return strings.TrimPrefix(s, "oauth2: ")
}
