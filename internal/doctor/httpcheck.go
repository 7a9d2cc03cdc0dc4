package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/muster-project/muster/client"
)

// maxBody is the most the doctor reads of any answer: the API's answers to
// its requests are small, so more means something else is answering.
const maxBody = 1 << 20

// answer is a fully read HTTP response.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool
}

// httpClient builds the client the HTTP steps use: the SDK's trust, the
// environment's proxy (as the SDK's default transport), no redirects.
func (p *probe) httpClient(cfg *tls.Config) *http.Client {
	dial := p.o.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	// Like the SDK's transport (a clone of http.DefaultTransport), offer HTTP/2.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg, DialContext: dial,
		TLSHandshakeTimeout: p.o.Timeout, ResponseHeaderTimeout: p.o.Timeout, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: p.o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends one request; auth is a full Authorization header value or "".
func (p *probe) do(ctx context.Context, method, path string, q url.Values, auth string) (*answer, error) {
	target := p.baseURL() + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "muster-doctor/1")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, body: body}
	if len(body) > maxBody {
		a.tooLarge, a.body = true, body[:maxBody]
	}
	return a, nil
}

// problem parses an error answer the way the SDK does.
func (a *answer) problem(method, path string) *client.Error {
	return client.ParseError(method, path, a.status, a.header.Get("Content-Type"), a.body)
}

// describe sums an answer up for the evidence.
func (a *answer) describe(req string) string {
	return fmt.Sprintf("%s: %d %s, Server %q, Content-Type %q, %d bytes%s", req, a.status, http.StatusText(a.status),
		a.header.Get("Server"), a.header.Get("Content-Type"), len(a.body), map[bool]string{true: " (cut at 1 MiB)"}[a.tooLarge])
}

func (a *answer) fromWazuh() bool { return strings.EqualFold(a.header.Get("Server"), "Wazuh") }

// proxyNote says whether requests go through a proxy from the environment.
func (p *probe) proxyNote() string {
	req := &http.Request{URL: &url.URL{Scheme: p.u.Scheme, Host: p.u.Host}}
	if pu, err := http.ProxyFromEnvironment(req); err == nil && pu != nil {
		return fmt.Sprintf("requests go through the proxy %s (HTTPS_PROXY/HTTP_PROXY); set NO_PROXY=%s to reach the manager directly", pu.Redacted(), p.host)
	}
	return ""
}

// transportFailure explains a request that got no HTTP answer.
func (p *probe) transportFailure(what string, err error, ev []string) Step {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "proxyconnect"):
		return fail("the proxy from the environment failed: "+msg, fmt.Sprintf("check HTTPS_PROXY, or bypass it with NO_PROXY=%s", p.host), ev...)
	case strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate"):
		return fail("the manager requires a client certificate and refused this client's ("+msg+")",
			"give --cert and --key with a certificate signed by the CA the manager trusts (api.yaml https.use_ca and https.ca)", ev...)
	case isTimeout(err):
		return fail(fmt.Sprintf("%s: connected, but no HTTP answer within %s", what, p.o.Timeout),
			"the API process is hung or overloaded (Wazuh runs requests one at a time: look at api.log and the manager's load), or a proxy holds the request; raise --timeout if the manager is just slow",
			append(ev, msg)...)
	case p.alpn == "h2" && p.http1Works():
		return fail(what+": the server negotiates HTTP/2 (TLS ALPN h2) but drops HTTP/2 requests, while HTTP/1.1 works",
			"the manager's TLS listener advertises h2 without serving it: fix its TLS settings (the Wazuh API speaks HTTP/1.1 only); meanwhile run muster with GODEBUG=http2client=0",
			append(ev, msg)...)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe"):
		return fail(what+": the server closed the connection without answering",
			"the API process may have crashed or restarted, or a proxy cut the connection: check the manager's logs", append(ev, msg)...)
	}
	return fail(what+": "+msg, "check the URL and the network path to the manager", ev...)
}

// http checks that the Wazuh API, not something else, answers the URL.
func (p *probe) http(ctx context.Context) Step {
	var ev []string
	if n := p.proxyNote(); n != "" {
		ev = append(ev, n)
	}
	a, err := p.do(ctx, http.MethodGet, "/", nil, "")
	if err != nil {
		return p.transportFailure("GET / without a token", err, ev)
	}
	ev = append(ev, a.describe("GET / without a token"))
	if len(a.body) > 0 {
		ev = append(ev, "body starts with "+snippet(a.body))
	}
	e := a.problem(http.MethodGet, "/")
	server, apiPort := a.header.Get("Server"), "the Wazuh API is on port 55000 of the manager"
	switch {
	case a.status == http.StatusUnauthorized && !errors.Is(e, client.ErrBadResponse) && e.Title == "Unauthorized":
		if a.fromWazuh() {
			return ok("the Wazuh API answers: 401 asking for a token, as it should", ev...)
		}
		return warn(fmt.Sprintf("a Wazuh-shaped answer, but from Server %q rather than Wazuh: a reverse proxy is in between", server),
			"fine if intended; if later steps fail, test the manager directly on port 55000 to rule the proxy out", ev...)
	case a.tooLarge:
		return fail("the answer to GET / is larger than 1 MiB: whatever answers is not the Wazuh API", "check the URL: "+apiPort, ev...)
	case a.status >= 300 && a.status < 400:
		return fail(fmt.Sprintf("redirected to %s: the URL points at a web application or a proxy login page, not the API", a.header.Get("Location")),
			"the Wazuh API never redirects: "+apiPort, ev...)
	case a.status == http.StatusProxyAuthRequired:
		return fail("a proxy demands authentication (407)", fmt.Sprintf("give the proxy credentials in HTTPS_PROXY, or bypass it with NO_PROXY=%s", p.host), ev...)
	case isIndexer(a):
		return fail("this is the Wazuh indexer (OpenSearch), not the server API", "the indexer listens on 9200; the server API on 55000 of the manager", ev...)
	case strings.Contains(strings.ToLower(a.header.Get("Content-Type")), "html") || htmlLike(a.body):
		title := ""
		if t := htmlTitle(a.body); t != "" {
			title = fmt.Sprintf(" titled %q", t)
		}
		return fail(fmt.Sprintf("not a Wazuh API: an HTML page%s (status %d, Server %q)", title, a.status, server),
			"if this is the Wazuh dashboard or a proxy's page, point --url at the API instead: "+apiPort, ev...)
	case a.status >= 502 && a.status <= 504 && !a.fromWazuh():
		return fail(fmt.Sprintf("a proxy (Server %q) answered %d: it cannot reach the manager behind it", server, a.status),
			"check the proxy's upstream (the manager's API on 55000) or connect to the manager directly", ev...)
	case a.status == http.StatusOK:
		return fail("GET / answered 200 without a token: whatever answers is not the Wazuh API (or a proxy adds credentials)",
			"check the URL: "+apiPort, ev...)
	case errors.Is(e, client.ErrBadResponse) && strings.HasPrefix(strings.TrimSpace(string(a.body)), "{"):
		return fail("the answer is cut short or is not valid JSON: "+e.Detail,
			"a proxy or a crashing API process truncates answers: retry, then test the manager directly", ev...)
	case a.status == http.StatusNotFound && p.u.EscapedPath() != "":
		return fail(fmt.Sprintf("GET %s/ is not found: the URL's path %q is wrong", p.u.EscapedPath(), p.u.EscapedPath()),
			"the Wazuh API has no path prefix: use --url "+p.u.Scheme+"://"+p.u.Host, ev...)
	}
	return fail(fmt.Sprintf("unexpected answer to GET / without a token: %d %s", a.status, e.Title),
		"the Wazuh API answers 401 with a JSON problem here: check the URL ("+apiPort+")", ev...)
}

// http1Works repeats GET / over HTTP/1.1 only, to tell a broken HTTP/2 server from a dead one.
func (p *probe) http1Works() bool {
	tr := p.hc.Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	hc := &http.Client{Transport: tr, Timeout: p.o.Timeout}
	resp, err := hc.Get(p.baseURL() + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// isIndexer spots OpenSearch or Elasticsearch.
func isIndexer(a *answer) bool {
	wa := strings.ToLower(a.header.Get("WWW-Authenticate"))
	body := strings.ToLower(string(a.body))
	return strings.Contains(wa, "opensearch") || strings.Contains(wa, "security") && strings.Contains(body, "opendistro") ||
		strings.Contains(body, `"cluster_name"`) || strings.Contains(body, "opensearch")
}

func htmlLike(b []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 512)])))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html")
}

func htmlTitle(b []byte) string {
	s := string(b)
	i := strings.Index(strings.ToLower(s), "<title>")
	if i < 0 {
		return ""
	}
	rest := s[i+len("<title>"):]
	j := strings.Index(strings.ToLower(rest), "</title>")
	if j < 0 || j > 200 {
		return ""
	}
	return strings.TrimSpace(rest[:j])
}

// snippet quotes the start of a body.
func snippet(b []byte) string {
	const n = 120
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "?")
	if len(b) > n {
		return fmt.Sprintf("%q...", s)
	}
	return fmt.Sprintf("%q", s)
}
