package authd_test

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/authd"
)

func TestSelfSignedCertificates(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	files := authd.TLSFiles{Cert: filepath.Join(dir, "sslmanager.cert"), Key: filepath.Join(dir, "sslmanager.key")}
	cfg, err := authd.TLSConfig(files, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 2 || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("certificates %d, min version %x", len(cfg.Certificates), cfg.MinVersion)
	}
	if st, err := os.Stat(files.Key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", st.Mode(), err)
	}
	// A client without Ed25519 gets the ECDSA certificate.
	ecdsaOnly := &tls.ClientHelloInfo{SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedVersions: []uint16{tls.VersionTLS13}, SupportedCurves: []tls.CurveID{tls.X25519}}
	if ecdsaOnly.SupportsCertificate(&cfg.Certificates[0]) == nil || ecdsaOnly.SupportsCertificate(&cfg.Certificates[1]) != nil {
		t.Error("the ECDSA certificate is not the fallback for clients without Ed25519")
	}
	// An agent pinning sslmanager.cert (agent-auth -v) verifies either one.
	pem, _ := os.ReadFile(files.Cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for i, c := range cfg.Certificates {
		leaf, _ := x509.ParseCertificate(c.Certificate[0])
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
			t.Errorf("certificate %d does not verify against sslmanager.cert: %v", i, err)
		}
	}
	if _, ok := cfg.Certificates[0].PrivateKey.(ed25519.PrivateKey); !ok {
		t.Error("the first certificate is not the Ed25519 one")
	}
	// Restarting loads the same files; an operator's own certificate alone
	// is used without the companion.
	again, err := authd.TLSConfig(files, log)
	if err != nil || len(again.Certificates) != 2 {
		t.Fatalf("reload: %v", err)
	}
	other := authd.TLSFiles{Cert: filepath.Join(dir, "own.cert"), Key: filepath.Join(dir, "own.key")}
	if err := authd.SelfSigned(other.Cert, other.Key, time.Now()); err != nil {
		t.Fatal(err)
	}
	own, err := authd.TLSConfig(other, log)
	if err != nil || len(own.Certificates) != 1 {
		t.Errorf("own certificate: %d certificates, %v", len(own.Certificates), err)
	}
}
