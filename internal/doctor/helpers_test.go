package doctor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/doctor"
)

// certSpec describes a test certificate.
type certSpec struct {
	cn        string
	names     []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	ca        bool
}

// issued is a certificate with its key, PEM and parsed form.
type issued struct {
	tls  tls.Certificate
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// makeCert signs spec with parent (self-signed when parent is nil).
func makeCert(t *testing.T, spec certSpec, parent *issued) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: spec.cn},
		NotBefore: spec.notBefore, NotAfter: spec.notAfter, DNSNames: spec.names, IPAddresses: spec.ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if spec.ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &issued{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert: cert, key: key,
		pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// writeFile stores data in a temporary file and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keyPEM encodes a private key.
func keyPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// tlsServer serves h over TLS with cert; mod adjusts the server's TLS config.
func tlsServer(t *testing.T, h http.Handler, cert *issued, mod func(*tls.Config)) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert.tls}}
	if mod != nil {
		mod(ts.TLS)
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// localCert is a certificate for 127.0.0.1 and localhost signed by a fresh CA.
func localCert(t *testing.T) (ca, leaf *issued) {
	ca = makeCert(t, certSpec{cn: "test CA", ca: true}, nil)
	leaf = makeCert(t, certSpec{cn: "manager", names: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
	return ca, leaf
}

// diagnose runs the doctor with test defaults.
func diagnose(t *testing.T, url string, mod func(*doctor.Options)) *doctor.Report {
	t.Helper()
	o := doctor.Options{URL: url, User: "wazuh", Password: "wazuh", Timeout: 10 * time.Second}
	if mod != nil {
		mod(&o)
	}
	return doctor.Run(context.Background(), o)
}

// expectFailure asserts the first failing step and words of its summary and fix.
func expectFailure(t *testing.T, r *doctor.Report, step string, summary, fix string) doctor.Step {
	t.Helper()
	if r.OK || r.FirstFailure != step {
		t.Fatalf("first failure %q, want %q; steps:\n%s", r.FirstFailure, step, dump(r))
	}
	s := r.Steps[len(r.Steps)-1]
	if !strings.Contains(s.Summary, summary) || !strings.Contains(s.Fix, fix) {
		t.Fatalf("step %s:\nsummary %q\nwant    %q\nfix     %q\nwant    %q\n%s", step, s.Summary, summary, s.Fix, fix, dump(r))
	}
	if r.ExitCode() != 1 {
		t.Fatalf("exit code %d", r.ExitCode())
	}
	return s
}

func dump(r *doctor.Report) string {
	var b strings.Builder
	doctor.WriteText(&b, r, true)
	return b.String()
}

// wazuh401 answers like the Wazuh API to a request without a token.
func wazuh401(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Server", "Wazuh")
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(401)
	w.Write([]byte(`{"title": "Unauthorized", "detail": "No authorization token provided"}`))
}

// x509Pool trusts ca.
func x509Pool(ca *issued) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// newPlainServer serves h over plain HTTP and returns its URL.
func newPlainServer(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
