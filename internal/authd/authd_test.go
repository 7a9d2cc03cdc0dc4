package authd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/authd"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted/fakereg"
	"github.com/muster-project/muster/internal/testclock"
)

type env struct {
	reg   *fakereg.Registry
	clock *testclock.Clock
	srv   *authd.Server
	addr  string
	added []core.KeyEntry
	mu    sync.Mutex
	stop  func()
}

func start(t *testing.T, mod func(*authd.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := authd.TLSConfig(authd.TLSFiles{Cert: filepath.Join(dir, "sslmanager.cert"),
		Key: filepath.Join(dir, "sslmanager.key")}, log)
	if err != nil {
		t.Fatal(err)
	}
	c := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	e := &env{reg: fakereg.New(c.Now), clock: c}
	o := authd.Options{Registry: e.reg, TLS: cfg, Hostname: "manager", Force: core.DefaultForce, KeyMismatch: true,
		Log: log, Timeout: 2 * time.Second, OnEnroll: func(k core.KeyEntry) {
			e.mu.Lock()
			e.added = append(e.added, k)
			e.mu.Unlock()
		}}
	if mod != nil {
		mod(&o)
	}
	e.srv = authd.New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); e.srv.Serve(ln) }()
	var once sync.Once
	e.stop = func() { once.Do(func() { e.srv.Close(); <-done }) }
	t.Cleanup(e.stop)
	return e
}

// raw sends a request line as is and returns the reply text.
func (e *env) raw(t *testing.T, line string) string {
	t.Helper()
	c, err := tls.Dial("tcp", e.addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, line)
	b, err := agentproto.ReadEnrollReply(c)
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	return string(b)
}

func (e *env) enroll(t *testing.T, req agentproto.EnrollRequest) (agentproto.KeyEntry, error) {
	t.Helper()
	return agentsim.Enroll(context.Background(), agentsim.EnrollOptions{Addr: e.addr, Timeout: 5 * time.Second}, req)
}

func TestEnrollSuccess(t *testing.T) {
	e := start(t, nil)
	got := e.raw(t, "OSSEC A:'NewAgent' V:'v4.14.7'\n")
	k, err := agentproto.ParseEnrollReply([]byte(got))
	if err != nil {
		t.Fatalf("reply %q: %v", got, err)
	}
	if k.ID != "001" || k.Name != "NewAgent" || k.IP != "any" || len(k.Key) != 64 {
		t.Errorf("reply %q", got)
	}
	if want := "OSSEC K:'001 NewAgent any " + k.Key + "'"; got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	if len(e.added) != 1 || e.added[0].Key != k.Key {
		t.Errorf("OnEnroll saw %v", e.added)
	}
	ag, ok := e.reg.Agent(1)
	if !ok || ag.Key != k.Key || ag.Status != core.AgentNeverConnected {
		t.Errorf("registry has %+v", ag)
	}
}

func TestEnrollRefusals(t *testing.T) {
	e := start(t, nil)
	e.reg.SetGroupFile("web", "<agent_config/>\n")
	first, err := e.enroll(t, agentproto.EnrollRequest{Name: "web01", Version: "v4.14.7", IP: "10.0.0.8"})
	if err != nil {
		t.Fatal(err)
	}
	// The registry says web01 is active: the force rules keep it.
	e.reg.UpdateConnections(context.Background(), []core.ConnUpdate{{Keepalive: core.Keepalive{ID: 1,
		Status: core.AgentActive, Now: e.clock.Now().Unix()}}})
	long := strings.Repeat("a", 129)
	for _, tc := range []struct{ line, want string }{
		{"OSSEC A:'web01'\n", "ERROR: Duplicate agent name: web01. Unable to add agent"},
		{"OSSEC A:'other' IP:'10.0.0.8'\n", "ERROR: Duplicate IP: 10.0.0.8. Unable to add agent"},
		{"OSSEC A:'manager'\n", "ERROR: Invalid agent name: manager. Unable to add agent"},
		{"OSSEC A:'bad name'\n", "ERROR: Invalid agent name: bad name. Unable to add agent"},
		{"OSSEC A:'" + long + "'\n", "ERROR: Invalid agent name: " + long + ". Unable to add agent"},
		{"OSSEC A:'.hidden'\n", "ERROR: Invalid agent name: .hidden. Unable to add agent"},
		{"OSSEC A:'x1' G:'nope'\n", "ERROR: Invalid group: nope. Unable to add agent"},
		{"OSSEC A:'x1' G:''\n", "ERROR: Invalid group name: Empty Group. Unable to add agent"},
		{"OSSEC A:'x1' G:'web\n", "ERROR: Unterminated group field. Unable to add agent"},
		{"OSSEC A:'x1' G:'a,,b'\n", "ERROR: Invalid group name: a,,b... consecutive ',' are not allowed. Unable to add agent"},
		{"OSSEC A:'x1' V:'v4.14.7\n", "ERROR: Unterminated version field. Unable to add agent"},
		{"OSSEC A:'x1' V:'v4.15.0'\n", "ERROR: Agent version must be lower or equal to manager version. Unable to add agent"},
		{"OSSEC A:'x1' IP:'300.1.1.1'\n", "ERROR: Invalid IP: 300.1.1.1. Unable to add agent"},
		{"OSSEC A:'x1' K:'abc\n", "ERROR: Unterminated key field. Unable to add agent"},
		{"OSSEC A:x1\n", "ERROR: Invalid request for new agent. Unable to add agent"},
		{"hello\n", "ERROR: Invalid request for new agent. Unable to add agent"},
		{"OSSEC PASS: secret OSSEC A:'x1'\n", "ERROR: Invalid request for new agent. Unable to add agent"},
	} {
		if got := e.raw(t, tc.line); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.line, got, tc.want)
		}
	}
	if n := e.reg.Len(); n != 1 {
		t.Errorf("refused requests added agents: %d in the registry", n)
	}
	_ = first
}

func TestPassword(t *testing.T) {
	e := start(t, func(o *authd.Options) { o.Password = "Top Secret" })
	for _, line := range []string{"OSSEC A:'a1'\n", "OSSEC PASS: wrong OSSEC A:'a1'\n", "OSSEC PASS: Top SecretOSSEC A:'a1'\n"} {
		if got := e.raw(t, line); got != "ERROR: Invalid password. Unable to add agent" {
			t.Errorf("%q: %q", line, got)
		}
	}
	k, err := e.enroll(t, agentproto.EnrollRequest{Password: "Top Secret", Name: "a1", Version: "v4.14.7"})
	if err != nil || k.Name != "a1" {
		t.Fatalf("right password refused: %v", err)
	}
}

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := filepath.Join(dir, "authd.pass")
	pw, err := authd.LoadPassword(p, log)
	if err != nil || len(pw) != 32 {
		t.Fatalf("random password %q: %v", pw, err)
	}
	if b, _ := os.ReadFile(p); strings.TrimSpace(string(b)) != pw {
		t.Error("the random password was not written to authd.pass")
	}
	os.WriteFile(p, []byte("my pass word\nsecond line\n"), 0o600)
	if pw, err := authd.LoadPassword(p, log); err != nil || pw != "my pass word" {
		t.Errorf("got %q, %v", pw, err)
	}
	os.WriteFile(p, []byte("\n"), 0o600)
	if _, err := authd.LoadPassword(p, log); err == nil {
		t.Error("an empty authd.pass was accepted")
	}
}

func TestGroupsAndSourceIP(t *testing.T) {
	e := start(t, func(o *authd.Options) { o.UseSourceIP = true })
	e.reg.SetGroupFile("web", "x\n")
	e.reg.SetGroupFile("linux", "y\n")
	k, err := e.enroll(t, agentproto.EnrollRequest{Name: "g1", Groups: []string{"web", "linux", "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if k.IP != "127.0.0.1" {
		t.Errorf("use_source_ip: ip %q", k.IP)
	}
	ag, _ := e.reg.Agent(1)
	if fmt.Sprint(ag.Groups) != "[web linux]" {
		t.Errorf("groups %v", ag.Groups)
	}
	k, err = e.enroll(t, agentproto.EnrollRequest{Name: "g2", IP: "10.1.0.0/16"})
	if err != nil || k.IP != "10.1.0.0/16" {
		t.Errorf("explicit network: %+v %v", k, err)
	}
}

func TestForceRules(t *testing.T) {
	e := start(t, nil)
	k1, err := e.enroll(t, agentproto.EnrollRequest{Name: "host1", Version: "v4.14.7"})
	if err != nil {
		t.Fatal(err)
	}
	// Registered less than an hour ago: not replaced.
	if _, err := e.enroll(t, agentproto.EnrollRequest{Name: "host1"}); !errors.Is(err, agentproto.RefuseDuplicateName("host1")) {
		t.Fatalf("replaced a fresh agent: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	// The agent still holds its key (K: matches): key_mismatch keeps it.
	if _, err := e.enroll(t, agentproto.EnrollRequest{Name: "host1", KeyHash: k1.KeyHash()}); !errors.Is(err,
		agentproto.RefuseDuplicateName("host1")) {
		t.Fatalf("K: hash matching the key: %v", err)
	}
	// A reinstalled agent (no key) replaces the never-connected old one, with a new id.
	k2, err := e.enroll(t, agentproto.EnrollRequest{Name: "host1"})
	if err != nil || k2.ID == k1.ID || k2.Key == k1.Key {
		t.Fatalf("replacement: %+v %v", k2, err)
	}
	if _, ok := e.reg.Agent(1); ok {
		t.Error("the replaced agent is still registered")
	}
}

// agentPKI writes a CA to dir/ca.pem and returns a client certificate it signed.
func agentPKI(t *testing.T, dir string) (caPath string, client tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agents CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	caPath = filepath.Join(dir, "ca.pem")
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "agent"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return caPath, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestAgentCertificate(t *testing.T) {
	dir := t.TempDir()
	caPath, client := agentPKI(t, dir)
	e := start(t, func(o *authd.Options) {
		cfg, err := authd.TLSConfig(authd.TLSFiles{Cert: filepath.Join(dir, "m.cert"), Key: filepath.Join(dir, "m.key"),
			AgentCA: caPath}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		o.TLS, o.VerifyHost = cfg, true
	})
	if _, err := e.enroll(t, agentproto.EnrollRequest{Name: "nocert"}); err == nil {
		t.Fatal("an agent without a certificate was enrolled")
	}
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12}
	k, err := agentsim.Enroll(context.Background(), agentsim.EnrollOptions{Addr: e.addr, TLS: cfg, Timeout: 5 * time.Second},
		agentproto.EnrollRequest{Name: "withcert"})
	if err != nil || k.Name != "withcert" {
		t.Fatalf("agent with a CA-signed certificate: %v", err)
	}
	if e.reg.Len() != 1 {
		t.Errorf("registry has %d agents", e.reg.Len())
	}
}

func TestBadConnectionsLeakNothing(t *testing.T) {
	runtime.GC()
	goroutines := runtime.NumGoroutine()
	fds := countFDs(t)
	e := start(t, nil)
	for _, raw := range []string{
		"OSSEC A:'plain'\n",                 // no TLS at all
		"\x16\x03\x01\x00\x05hello",         // a broken ClientHello
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", // another protocol
		strings.Repeat("\x00", 1000),        // garbage
	} {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(raw))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c) // the server closes it
		c.Close()
	}
	// A request line longer than the limit, then one never terminated.
	for _, line := range []string{strings.Repeat("A", agentproto.MaxEnrollRequestSize+10), "OSSEC A:'slow'"} {
		c, err := tls.Dial("tcp", e.addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, line)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("the server answered %q", b)
		}
		c.Close()
	}
	// Idle connections that never start TLS, closed by the timeout or Close.
	var idle []net.Conn
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	if _, err := e.enroll(t, agentproto.EnrollRequest{Name: "fine"}); err != nil {
		t.Fatalf("a good agent was refused during the flood: %v", err)
	}
	if e.reg.Len() != 1 {
		t.Errorf("registry has %d agents, want 1", e.reg.Len())
	}
	e.stop()
	for _, c := range idle {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines || countFDs(t) > fds {
		if time.Now().After(deadline) {
			t.Fatalf("leak: goroutines %d (was %d), fds %d (was %d)", runtime.NumGoroutine(), goroutines, countFDs(t), fds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}
