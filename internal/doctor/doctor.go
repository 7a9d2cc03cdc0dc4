// Package doctor walks the path a request to a Wazuh API takes (URL, DNS,
// TCP, TLS, HTTP, login, token use, permissions) and names the first thing
// that is wrong, with the evidence and the fix.
//
// Each step is a method returning a Step; Run calls them in order and stops
// at the first failure, because every later step depends on the earlier ones.
// Steps talk raw HTTP rather than through the client SDK so that they can
// show the evidence (status, headers, certificate) the SDK hides; they trust
// exactly what the SDK would (client.TLSConfig).
package doctor

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/muster-project/muster/client"
)

// Status is the outcome of one step.
type Status string

// Step outcomes.
const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but something deserves attention
	Fail Status = "fail" // the first thing that is wrong; later steps do not run
	Skip Status = "skip"
)

// Step is the result of one check.
type Step struct {
	Name        string    `json:"step"`
	Status      Status    `json:"status"`
	Summary     string    `json:"summary"`
	Evidence    []string  `json:"evidence,omitempty"`
	Fix         string    `json:"fix,omitempty"`
	Certificate *CertInfo `json:"certificate,omitempty"`
	ElapsedMS   float64   `json:"elapsed_ms"`
}

// Report is the outcome of a whole run.
type Report struct {
	URL          string `json:"url"`
	User         string `json:"user"`
	OK           bool   `json:"ok"`
	FirstFailure string `json:"first_failure,omitempty"`
	Steps        []Step `json:"steps"`
}

// ExitCode is 0 when every step passed (warnings allowed) and 1 otherwise.
func (r *Report) ExitCode() int {
	if r.OK {
		return 0
	}
	return 1
}

// Options say what to check and how the client would connect.
type Options struct {
	URL      string
	User     string
	Password string
	CAFiles  []string
	CertFile string
	KeyFile  string
	Insecure bool
	Timeout  time.Duration // per network operation; 0 means 10 s
	// Token, when set, is a token to diagnose (from another tool's failing run).
	Token string
	// Checks are the permissions to verify; nil means DefaultChecks.
	Checks []Check
	// DataDir names muster's data directory in fixes; empty writes <data-dir>.
	DataDir string
	// Now is the local clock; nil means time.Now.
	Now func() time.Time
	// Dial and Resolver replace the network for tests.
	Dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	Resolver interface {
		LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	}
}

// probe carries what earlier steps learned to the later ones.
type probe struct {
	o          Options
	u          *url.URL
	host, port string
	ips        []net.IP
	addr       string // host:port that accepted the TCP connection
	alpn       string // protocol the TLS handshake negotiated
	tlsErr     error
	hc         *http.Client
	token      string
	claims     client.Claims
	skew       time.Duration // manager clock minus local clock
	secCfg     *client.SecurityConfig
	secCfgNote string
}

// Run performs the steps in order and stops at the first failure.
func Run(ctx context.Context, o Options) *Report {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Checks == nil {
		o.Checks = DefaultChecks()
	}
	p := &probe{o: o}
	r := &Report{URL: o.URL, User: o.User, OK: true, Steps: []Step{}}
	steps := []struct {
		name string
		fn   func(context.Context) Step
	}{{"url", p.checkURL}, {"dns", p.dns}, {"tcp", p.tcp}, {"tls", p.tls}, {"http", p.http},
		{"login", p.login}, {"token", p.tokenUse}, {"permissions", p.permissions}}
	for _, s := range steps {
		start := time.Now()
		st := s.fn(ctx)
		st.Name = s.name
		st.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
		r.Steps = append(r.Steps, st)
		if st.Status == Fail {
			r.OK, r.FirstFailure = false, s.name
			break
		}
	}
	return r
}

func ok(summary string, evidence ...string) Step {
	return Step{Status: OK, Summary: summary, Evidence: evidence}
}

func fail(summary, fix string, evidence ...string) Step {
	return Step{Status: Fail, Summary: summary, Fix: fix, Evidence: evidence}
}

func warn(summary, fix string, evidence ...string) Step {
	return Step{Status: Warn, Summary: summary, Fix: fix, Evidence: evidence}
}

// dataDir is how fixes name muster's data directory.
func (p *probe) dataDir() string {
	if p.o.DataDir != "" {
		return p.o.DataDir
	}
	return "<data-dir>"
}

// baseURL is the API URL as requests use it.
func (p *probe) baseURL() string {
	return p.u.Scheme + "://" + p.u.Host + p.u.EscapedPath()
}
