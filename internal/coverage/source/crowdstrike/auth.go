package crowdstrike

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/muster-project/muster/internal/connauth"
)

// wrapLogin adds the source's name and what to do to a failed login.
func (s *Source) wrapLogin(login func(context.Context) (connauth.Token, error)) func(context.Context) (connauth.Token, error) {
	return func(ctx context.Context) (connauth.Token, error) {
		tok, err := login(ctx)
		if errors.Is(err, connauth.ErrLoginRefused) {
			return tok, fmt.Errorf("%w; the API client %s was refused (is it deleted, or its secret reset? check client_secret_file/client_secret_env and, for a child CID, member_cid)", err, s.clientID)
		}
		if err != nil {
			return tok, err
		}
		s.log.Debug("crowdstrike: token issued", "source", s.name, "client_id", s.clientID, "expiry", tok.Expiry)
		return tok, nil
	}
}

// errWrongCloud marks an answer redirecting to another Falcon cloud.
var errWrongCloud = errors.New("the API client belongs to another Falcon cloud")

// checkRedirect refuses to follow redirects. Falcon answers a request sent
// to the wrong cloud with a redirect (308) and X-Cs-Region; following it
// would log in on one cloud and read from another (and the bearer token is
// not resent to another host), so the error names the cloud instead. A
// token request fails at once (logins are not retried); an API request's
// redirect is handed back to the caller, which reads it the same way.
func (s *Source) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > 0 && via[0].URL.String() == s.tokenURL {
		return redirectError(req.Response, s.tokenURL)
	}
	return http.ErrUseLastResponse
}

// redirectError says where a redirect points and what to configure.
func redirectError(resp *http.Response, from string) error {
	if resp == nil {
		return fmt.Errorf("%s answered with a redirect; muster does not follow redirects", from)
	}
	region := strings.ToLower(strings.TrimSpace(resp.Header.Get("X-Cs-Region")))
	loc := resp.Header.Get("Location")
	cloud := ""
	if _, ok := Clouds[region]; ok {
		cloud = region
	} else if u, err := url.Parse(loc); err == nil && u.Host != "" {
		for name, base := range Clouds {
			if b, _ := url.Parse(base); b.Host == u.Host {
				cloud = name
			}
		}
	}
	switch {
	case cloud != "":
		return fmt.Errorf("%w: %s answered HTTP %d (X-Cs-Region %q): the account is on the %s cloud; set cloud: %s (and remove url/token_url if they name another cloud)",
			errWrongCloud, from, resp.StatusCode, region, cloud, cloud)
	case region != "":
		return fmt.Errorf("%w: %s answered HTTP %d (X-Cs-Region %q, Location %q): set url to that cloud's API address",
			errWrongCloud, from, resp.StatusCode, region, loc)
	}
	return fmt.Errorf("%s answered HTTP %d, a redirect to %q; muster does not follow redirects: set url to the address that answers", from, resp.StatusCode, loc)
}
