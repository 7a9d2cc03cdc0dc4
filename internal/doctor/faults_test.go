package doctor_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/doctor"
)

func TestURLProblems(t *testing.T) {
	expectFailure(t, diagnose(t, "wazuh.example:55000", nil), "url", "has no scheme", "--url https://wazuh.example:55000")
	expectFailure(t, diagnose(t, "ftp://wazuh.example", nil), "url", "not https or http", "https://HOST:55000")
	expectFailure(t, diagnose(t, "https://wazuh.example:55000/?pretty=true", nil), "url", "query", "scheme, host and port")
}

type fakeResolver struct{ err error }

func (f fakeResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) { return nil, f.err }

func TestDNS(t *testing.T) {
	r := diagnose(t, "https://no-such-manager.invalid:55000", func(o *doctor.Options) {
		o.Resolver = fakeResolver{&net.DNSError{Err: "no such host", Name: "no-such-manager.invalid", IsNotFound: true}}
	})
	expectFailure(t, r, "dns", `"no-such-manager.invalid" does not exist in DNS`, "/etc/hosts")
	r = diagnose(t, "https://slow.example:55000", func(o *doctor.Options) {
		o.Resolver = fakeResolver{&net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}}
	})
	expectFailure(t, r, "dns", "no DNS answer", "resolv.conf")
}

// A server bound elsewhere: the port is closed.
func TestConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	s := expectFailure(t, diagnose(t, "https://"+addr, nil), "tcp", "connection refused: nothing listens on "+addr, "api.yaml port")
	if len(s.Evidence) == 0 || !strings.Contains(s.Evidence[0], "refused") {
		t.Errorf("evidence %q", s.Evidence)
	}
}

// A manager bound to 127.0.0.1 only, reached through this machine's LAN address.
func TestBoundToLocalhostOnly(t *testing.T) {
	var lan net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			lan = n.IP
			break
		}
	}
	if lan == nil {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	expectFailure(t, diagnose(t, "https://"+net.JoinHostPort(lan.String(), port), nil), "tcp",
		"the port is open on 127.0.0.1:"+port+": the manager is bound to that address only", "api.yaml host")
}

// A firewall that drops packets: the dial times out.
func TestFirewallDrops(t *testing.T) {
	r := diagnose(t, "https://192.0.2.10:55000", func(o *doctor.Options) {
		o.Timeout = 50 * time.Millisecond
		o.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
	})
	expectFailure(t, r, "tcp", "no answer from 192.0.2.10:55000 within 50ms", "firewall")
}

func TestTLSFailures(t *testing.T) {
	ca, leaf := localCert(t)
	good := tlsServer(t, http.HandlerFunc(wazuh401), leaf, nil)
	caFile := writeFile(t, "ca.pem", ca.pem)

	// Self-signed, not trusted: the fix names the file and shows the fingerprint.
	self := makeCert(t, certSpec{cn: "muster manager API", names: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}}, nil)
	ts := tlsServer(t, http.HandlerFunc(wazuh401), self, nil)
	s := expectFailure(t, diagnose(t, ts.URL, func(o *doctor.Options) { o.DataDir = "/srv/muster" }), "tls",
		"self-signed and this client does not trust it", "--ca /srv/muster/ssl/server.crt")
	if s.Certificate == nil || !s.Certificate.SelfSigned || !strings.Contains(s.Fix, s.Certificate.SHA256) {
		t.Errorf("certificate %+v", s.Certificate)
	}
	// The right CA: TLS passes and the Wazuh-shaped 401 passes the HTTP step.
	r := diagnose(t, good.URL, func(o *doctor.Options) { o.CAFiles = []string{caFile}; o.Password = "" })
	expectFailure(t, r, "login", "no password", "MUSTER_PASSWORD")
	if r.Steps[3].Status != doctor.OK || r.Steps[4].Status != doctor.OK {
		t.Fatalf("tls/http steps:\n%s", dump(r))
	}
	// A wrong CA file.
	other := makeCert(t, certSpec{cn: "other CA", ca: true}, nil)
	expectFailure(t, diagnose(t, good.URL, func(o *doctor.Options) { o.CAFiles = []string{writeFile(t, "other.pem", other.pem)} }),
		"tls", `not by the CA in --ca (wrong CA file)`, "--ca FILE")
	// Name mismatch: a certificate for wazuh.example only.
	named := makeCert(t, certSpec{cn: "m", names: []string{"wazuh.example"}}, ca)
	ts = tlsServer(t, http.HandlerFunc(wazuh401), named, nil)
	expectFailure(t, diagnose(t, ts.URL, func(o *doctor.Options) { o.CAFiles = []string{caFile} }),
		"tls", "the certificate is for wazuh.example, not for 127.0.0.1", "--url https://wazuh.example:")
	// Expired.
	old := makeCert(t, certSpec{cn: "m", ips: []net.IP{net.IPv4(127, 0, 0, 1)}, notBefore: time.Now().Add(-400 * 24 * time.Hour),
		notAfter: time.Now().Add(-35 * 24 * time.Hour)}, ca)
	ts = tlsServer(t, http.HandlerFunc(wazuh401), old, nil)
	expectFailure(t, diagnose(t, ts.URL, func(o *doctor.Options) { o.CAFiles = []string{caFile} }),
		"tls", "certificate expired on", "renew the certificate")
	// Protocol: the server offers only TLS 1.1.
	ts = tlsServer(t, http.HandlerFunc(wazuh401), leaf, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS11 })
	expectFailure(t, diagnose(t, ts.URL, func(o *doctor.Options) { o.CAFiles = []string{caFile} }),
		"tls", "no TLS version or cipher suite in common", "TLS 1.2")
	// --insecure passes with a loud warning and still shows the certificate.
	r = diagnose(t, good.URL, func(o *doctor.Options) { o.Insecure = true; o.Password = "" })
	if st := r.Steps[3]; st.Status != doctor.Warn || !strings.Contains(st.Summary, "--insecure") || st.Certificate == nil {
		t.Errorf("insecure tls step: %+v", st)
	}
}

// A manager that requires client certificates (api.yaml https.use_ca).
func TestClientCertificateRequired(t *testing.T) {
	ca, leaf := localCert(t)
	pool := x509Pool(ca)
	ts := tlsServer(t, http.HandlerFunc(wazuh401), leaf, func(c *tls.Config) {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool
	})
	caFile := writeFile(t, "ca.pem", ca.pem)
	r := diagnose(t, ts.URL, func(o *doctor.Options) { o.CAFiles = []string{caFile} })
	if r.OK || (r.FirstFailure != "tls" && r.FirstFailure != "http") ||
		!strings.Contains(r.Steps[len(r.Steps)-1].Fix, "--cert and --key") {
		t.Fatalf("client cert:\n%s", dump(r))
	}
	client := makeCert(t, certSpec{cn: "scanner"}, ca)
	r = diagnose(t, ts.URL, func(o *doctor.Options) {
		o.CAFiles = []string{caFile}
		o.CertFile, o.KeyFile = writeFile(t, "c.pem", client.pem), writeFile(t, "k.pem", keyPEM(t, client.key))
		o.Password = ""
	})
	expectFailure(t, r, "login", "no password", "")
}

func TestNotTLS(t *testing.T) {
	// Plain HTTP on the port of an https URL.
	plain := newPlainServer(t, http.HandlerFunc(wazuh401))
	expectFailure(t, diagnose(t, strings.Replace(plain, "http://", "https://", 1), nil), "tls",
		"answers plain HTTP on this port", "--url http://")
	// Something that accepts and never speaks.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, h := range held {
					h.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	expectFailure(t, diagnose(t, "https://"+ln.Addr().String(), func(o *doctor.Options) { o.Timeout = 200 * time.Millisecond }),
		"tls", "did not complete a TLS handshake within 200ms", "ss -ltnp")
}

func TestHTTPNotWazuh(t *testing.T) {
	ca, leaf := localCert(t)
	caFile := writeFile(t, "ca.pem", ca.pem)
	run := func(h http.HandlerFunc, mod func(*doctor.Options)) *doctor.Report {
		ts := tlsServer(t, h, leaf, nil)
		return diagnose(t, ts.URL, func(o *doctor.Options) {
			o.CAFiles = []string{caFile}
			if mod != nil {
				mod(o)
			}
		})
	}
	html := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!DOCTYPE html><html><head><title>Wazuh dashboard</title></head></html>"))
	}
	expectFailure(t, run(html, nil), "http", `an HTML page titled "Wazuh dashboard"`, "port 55000")
	redirect := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/app/login", http.StatusFound) }
	expectFailure(t, run(redirect, nil), "http", "redirected to /app/login", "never redirects")
	indexer := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		w.WriteHeader(401)
		w.Write([]byte("Unauthorized"))
	}
	expectFailure(t, run(indexer, nil), "http", "Wazuh indexer", "9200")
	badGateway := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "nginx")
		w.WriteHeader(502)
		w.Write([]byte("<html><head><title>502 Bad Gateway</title></head></html>"))
	}
	expectFailure(t, run(badGateway, nil), "http", `HTML page titled "502 Bad Gateway"`, "55000")
	truncated := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		w.Write([]byte(`{"title": "Unauthorized", "detail": "No autho`))
	}
	expectFailure(t, run(truncated, nil), "http", "cut short", "truncates")
	huge := func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(401)
		w.Write(bytes.Repeat([]byte("A"), 3<<20))
	}
	expectFailure(t, run(huge, nil), "http", "larger than 1 MiB", "55000")
	held := make(chan net.Conn, 8)
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	never := func(w http.ResponseWriter, _ *http.Request) { // takes the connection and never answers
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			held <- c
		}
	}
	expectFailure(t, run(never, func(o *doctor.Options) { o.Timeout = 300 * time.Millisecond }), "http",
		"connected, but no HTTP answer within 300ms", "hung or overloaded")
	// A reverse proxy that passes Wazuh's answer through but names itself: a warning only.
	viaProxy := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "envoy")
		w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		w.WriteHeader(401)
		w.Write([]byte(`{"title": "Unauthorized", "detail": "No authorization token provided"}`))
	}
	r := run(viaProxy, func(o *doctor.Options) { o.Password = "" })
	if st := r.Steps[4]; st.Status != doctor.Warn || !strings.Contains(st.Summary, "reverse proxy") {
		t.Errorf("proxy warning:\n%s", dump(r))
	}
}

// A server that offers HTTP/2 in the TLS handshake but serves only HTTP/1.1
// (muster's manager had this bug): the SDK's requests die, HTTP/1.1 works.
func TestHTTP2AdvertisedButNotServed(t *testing.T) {
	ca, leaf := localCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf.tls}}
	offered := cfg.Clone()
	offered.NextProtos = []string{"h2", "http/1.1"}
	srv := &http.Server{Handler: http.HandlerFunc(wazuh401), TLSConfig: cfg, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(ln, offered))
	defer srv.Close()
	r := diagnose(t, "https://"+ln.Addr().String(), func(o *doctor.Options) { o.CAFiles = []string{writeFile(t, "ca.pem", ca.pem)} })
	expectFailure(t, r, "http", "negotiates HTTP/2 (TLS ALPN h2) but drops HTTP/2 requests, while HTTP/1.1 works", "GODEBUG=http2client=0")
}

func TestJSONOutput(t *testing.T) {
	r := diagnose(t, "wazuh:55000", nil)
	var b bytes.Buffer
	if err := doctor.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["first_failure"] != "url" || back["ok"] != false {
		t.Fatalf("json %s (%v)", b.String(), err)
	}
}
