package api

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the API's Prometheus collectors: requests by route pattern,
// method and status code with a latency histogram per route, logins and
// their failures, logins refused by the block, and rate-limited requests.
// A nil *Metrics records nothing and adds nothing to the request path.
type Metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	logins        prometheus.Counter
	loginFailures prometheus.Counter
	loginBlocked  prometheus.Counter
	rateLimited   prometheus.Counter
	since         func(time.Time) time.Duration
	unrouted      map[string]*routeMetrics // by method (unmatchedFor)
}

// unmatchedRoute labels the requests no route answered: 404 and 405 from
// the router, and those the rate limit refused before routing.
const unmatchedRoute = "unmatched"

// requestBuckets span a cached read (well under a millisecond) to a slow
// bulk operation (Wazuh's request_timeout is 10 s).
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics registers the API's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_api_http_requests_total",
			Help: "API requests answered, by route pattern, method and HTTP status code."},
			[]string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "muster_api_http_request_duration_seconds",
			Help: "Time the API took to answer a request, by route pattern and method.", Buckets: requestBuckets},
			[]string{"route", "method"}),
		logins: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_api_logins_total",
			Help: "Successful logins (a token was issued)."}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_api_login_failures_total",
			Help: "Login attempts refused for wrong or missing credentials (each counts towards the block)."}),
		loginBlocked: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_api_login_blocked_total",
			Help: "Login attempts refused because the client address is blocked (max_login_attempts)."}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_api_rate_limited_requests_total",
			Help: "Requests refused by max_request_per_minute (HTTP 429)."}),
		since: time.Since,
	}
	reg.MustRegister(m.requests, m.duration, m.logins, m.loginFailures, m.loginBlocked, m.rateLimited)
	m.unrouted = map[string]*routeMetrics{"other": m.forRoute("other", unmatchedRoute)}
	for _, meth := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace} {
		m.unrouted[meth] = m.forRoute(meth, unmatchedRoute)
	}
	return m
}

// cachedCodes are the status codes whose counters each route keeps at
// hand; others go through WithLabelValues.
var cachedCodes = [...]int{200, 400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 501, 503}

func codeSlot(code int) int {
	for i, c := range cachedCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// routeMetrics are one route's observers, resolved once so that a request
// costs no label lookup: the histogram at start, a status code's counter on
// its first use (lock-free after that).
type routeMetrics struct {
	m             *Metrics
	route, method string
	duration      prometheus.Observer
	codes         [len(cachedCodes)]atomic.Pointer[prometheus.Counter]
	login         bool // a successful answer is a login
}

func (m *Metrics) forRoute(method, pattern string) *routeMetrics {
	return &routeMetrics{m: m, route: pattern, method: method,
		duration: m.duration.WithLabelValues(pattern, method),
		login:    pattern == "/security/user/authenticate" || pattern == "/security/user/authenticate/run_as"}
}

func (rm *routeMetrics) counter(code int) prometheus.Counter {
	i := codeSlot(code)
	if i < 0 {
		return rm.m.requests.WithLabelValues(rm.route, rm.method, strconv.Itoa(code))
	}
	if c := rm.codes[i].Load(); c != nil {
		return *c
	}
	c := rm.m.requests.WithLabelValues(rm.route, rm.method, strconv.Itoa(code))
	rm.codes[i].Store(&c)
	return c
}

func (rm *routeMetrics) observe(code int, d time.Duration) {
	rm.counter(code).Inc()
	rm.duration.Observe(d.Seconds())
	if rm.login && code == http.StatusOK {
		rm.m.logins.Inc()
	}
}

// statusOf is the code the request was answered with: the recorder's, 200
// when the handler wrote nothing (net/http sends 200), 500 when it panicked
// (the outer layer answers 500).
func statusOf(r *http.Request, returned bool) int {
	if rec := recorderFrom(r); rec != nil && rec.status != 0 {
		return rec.status
	}
	if !returned {
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// instrument wraps one route's handler.
func (m *Metrics) instrument(method, pattern string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	rm := m.forRoute(method, pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		returned := false
		defer func() { rm.observe(statusOf(r, returned), rm.m.since(start)) }()
		next.ServeHTTP(w, r)
		returned = true
	})
}

// unmatched wraps the router's 404 and 405 handlers.
func (m *Metrics) unmatched(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		m.unmatchedFor(r.Method).observe(statusOf(r, true), m.since(start))
	})
}

// unmatchedFor returns the observers of unrouted requests for a method;
// methods outside the standard ones share "other", keeping the label set
// bounded whatever clients send.
func (m *Metrics) unmatchedFor(method string) *routeMetrics {
	if rm := m.unrouted[method]; rm != nil {
		return rm
	}
	return m.unrouted["other"]
}

// limited wraps the rate limit: only it answers 429, before routing, so a
// 429 is a refused request that no route observed.
func (m *Metrics) limited(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		if rec := recorderFrom(r); rec != nil && rec.status == http.StatusTooManyRequests {
			m.rateLimited.Inc()
			m.unmatchedFor(r.Method).observe(http.StatusTooManyRequests, m.since(start))
		}
	})
}

// countingBlocker counts the login block's decisions on their way through.
type countingBlocker struct {
	loginBlocker
	m *Metrics
}

func (b countingBlocker) Blocked(ip string, now time.Time) (bool, time.Time) {
	blocked, until := b.loginBlocker.Blocked(ip, now)
	if blocked {
		b.m.loginBlocked.Inc()
	}
	return blocked, until
}

func (b countingBlocker) Failed(ip string, now time.Time) {
	b.m.loginFailures.Inc()
	b.loginBlocker.Failed(ip, now)
}

// countBlocks wraps the server's login block with the login counters.
func (m *Metrics) countBlocks(b loginBlocker) loginBlocker {
	if m == nil {
		return b
	}
	return countingBlocker{loginBlocker: b, m: m}
}
