package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for 127.0.0.1 (server) or a client.
func (ca *testCA) issue(t *testing.T, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writePEM stores a certificate and its key as PEM files and returns their paths.
func writePEM(t *testing.T, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(p, data, 0o600))
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tlsFake serves a fake manager over TLS with a certificate from ca.
func tlsFake(t *testing.T, ca *testCA, clientCAs *x509.CertPool) (*fakeWazuh, string) {
	f := newFake(t, newClock())
	f.handle("GET /", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]string{"title": "Wazuh API REST", "api_version": "4.14.7"}, "error": 0})
	})
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, true)}}
	if clientCAs != nil {
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestCAFileTrustAndUnknownCA(t *testing.T) {
	ca := newCA(t, "wazuh-test-ca")
	f, url := tlsFake(t, ca, nil)
	ctx := context.Background()

	good, err := client.New(url, client.WithCredentials(f.user, f.password), client.WithCAFile(writeFile(t, ca.pem)))
	must(t, err)
	info, err := good.Info(ctx)
	if err != nil || info.APIVersion != "4.14.7" {
		t.Fatalf("trusted CA: %+v, %v", info, err)
	}

	other := newCA(t, "someone-else")
	for name, opts := range map[string][]client.Option{
		"system roots": nil,
		"unknown CA":   {client.WithCAFile(writeFile(t, other.pem))},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := client.New(url, append(opts, client.WithCredentials(f.user, f.password))...)
			must(t, err)
			s := &sleeps{}
			client.SetSleep(c, s.sleep)
			_, err = c.Info(ctx)
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrConnection) || !strings.Contains(apiErr.Remediation, "WithCAFile") {
				t.Fatalf("err = %v, want a CA diagnosis", err)
			}
			if len(s.all()) != 0 {
				t.Fatalf("certificate errors are permanent, but the client backed off %d times", len(s.all()))
			}
		})
	}
}

func TestCAFileErrors(t *testing.T) {
	if _, err := client.New("https://127.0.0.1:55000", client.WithCAFile(filepath.Join(t.TempDir(), "missing.pem"))); err == nil {
		t.Fatal("missing CA file accepted")
	}
	if _, err := client.New("https://127.0.0.1:55000", client.WithCAFile(writeFile(t, []byte("not a cert")))); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("garbage CA file: %v", err)
	}
}

func TestServerNameMismatch(t *testing.T) {
	ca := newCA(t, "ca")
	f, url := tlsFake(t, ca, nil)
	c, err := client.New(url, client.WithCredentials(f.user, f.password), client.WithCAFile(writeFile(t, ca.pem)), client.WithServerName("wazuh.example"))
	must(t, err)
	_, err = c.Info(context.Background())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Remediation, "WithServerName") {
		t.Fatalf("err = %v, want a host name diagnosis", err)
	}
}

func TestClientCertificates(t *testing.T) {
	ca := newCA(t, "ca")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	f, url := tlsFake(t, ca, pool)
	certFile, keyFile := writePEM(t, ca.issue(t, false))
	caFile := writeFile(t, ca.pem)

	with, err := client.New(url, client.WithCredentials(f.user, f.password), client.WithCAFile(caFile), client.WithClientCert(certFile, keyFile))
	must(t, err)
	if _, err := with.Info(context.Background()); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}

	without, err := client.New(url, client.WithCredentials(f.user, f.password), client.WithCAFile(caFile), client.WithRetry(1, 0, 0))
	must(t, err)
	_, err = without.Info(context.Background())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrConnection) || client.IsUnauthorized(err) {
		t.Fatalf("without a client certificate: %v, want a connection error", err)
	}
	if !strings.Contains(apiErr.Remediation, "WithClientCert") {
		t.Fatalf("remediation %q does not point at WithClientCert (err %v)", apiErr.Remediation, apiErr.Err)
	}
	if f.loginHits.Load() != 1 {
		t.Fatalf("login hits = %d, want only the one with a certificate", f.loginHits.Load())
	}
}

func TestInsecureWarnsLoudly(t *testing.T) {
	ca := newCA(t, "ca")
	f, url := tlsFake(t, ca, nil)
	var logs bytes.Buffer
	c, err := client.New(url, client.WithCredentials(f.user, f.password), client.WithInsecure(),
		client.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	must(t, err)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "VERIFICATION IS DISABLED") {
		t.Fatalf("no loud warning logged: %q", logs.String())
	}
	if _, err := c.Info(context.Background()); err != nil {
		t.Fatalf("insecure client cannot connect: %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"wazuh:55000", "ftp://wazuh:55000", "https://", "https://wazuh:55000/?pretty=true", "https://u:p@wazuh:55000"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted a bad URL", u)
		}
	}
	c, err := client.New("https://wazuh.example:55000/api/")
	if err != nil || c.BaseURL() != "https://wazuh.example:55000/api" {
		t.Fatalf("trailing slash: %v, %v", c, err)
	}
}
