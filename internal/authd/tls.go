package authd

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TLSFiles name the daemon's certificate files (ossec.conf <auth>).
type TLSFiles struct {
	Cert string // ssl_manager_cert
	Key  string // ssl_manager_key
	// AgentCA, when set, makes agents present a certificate signed by it
	// (ssl_agent_ca).
	AgentCA string
}

// TLSConfig loads the daemon's certificate, creating a self-signed one when
// both files are missing, as the manager's package does at install. TLS 1.2
// is the minimum, as authd switches SSLv3, TLS 1.0 and 1.1 off.
//
// The self-signed certificate is ECDSA P-256, which every agent's OpenSSL
// cipher list (HIGH) accepts. Next to it an Ed25519 certificate signed by
// it is made ("<cert>-ed25519"): clients that offer Ed25519 signatures
// (OpenSSL 1.1.1 and later, Go) get that one, which halves the cost of a
// handshake, and an agent that pins sslmanager.cert still verifies it.
func TLSConfig(f TLSFiles, log *slog.Logger) (*tls.Config, error) {
	edCert, edKey := companion(f.Cert), companion(f.Key)
	if missing(f.Cert) && missing(f.Key) {
		if err := SelfSigned(f.Cert, f.Key, time.Now()); err != nil {
			return nil, fmt.Errorf("authd: create a self-signed certificate: %w", err)
		}
		if err := signEd25519(f.Cert, f.Key, edCert, edKey, time.Now()); err != nil {
			return nil, fmt.Errorf("authd: create the Ed25519 certificate: %w", err)
		}
		log.Info("authd: created a self-signed enrollment certificate", "cert", f.Cert)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("authd: load %s and %s: %w", f.Cert, f.Key, err)
	}
	certs := []tls.Certificate{cert}
	if ed, ok := loadCompanion(edCert, edKey, cert); ok {
		certs = []tls.Certificate{ed, cert}
	}
	cfg := &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12,
		// P-256 first, whose key generation has precomputed tables (a
		// handshake's exchange costs 70 µs against 90 µs for X25519); a
		// client's key share still decides when it sent one, so agents that
		// offer only X25519 need no extra round trip. The hybrid
		// post-quantum exchange Go would prefer costs several times more,
		// and agents do not offer it.
		CurvePreferences: []tls.CurveID{tls.CurveP256, tls.X25519, tls.CurveP384},
		// An agent enrolls once, with a fresh TLS context: a session ticket
		// would only cost a sealing and a write per enrollment.
		SessionTicketsDisabled: true}
	if f.AgentCA != "" {
		pemData, err := os.ReadFile(f.AgentCA)
		if err != nil {
			return nil, fmt.Errorf("authd: ssl_agent_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("authd: ssl_agent_ca %s holds no PEM certificate", f.AgentCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func missing(p string) bool {
	_, err := os.Stat(p)
	return errors.Is(err, fs.ErrNotExist)
}

// companion is "<name>-ed25519<ext>" next to a certificate or key file.
func companion(p string) string {
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + "-ed25519" + ext
}

// loadCompanion returns the Ed25519 pair when it exists and was signed by
// the main certificate.
func loadCompanion(certPath, keyPath string, main tls.Certificate) (tls.Certificate, bool) {
	if missing(certPath) || missing(keyPath) {
		return tls.Certificate{}, false
	}
	ed, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, false
	}
	leaf, err1 := x509.ParseCertificate(ed.Certificate[0])
	issuer, err2 := x509.ParseCertificate(main.Certificate[0])
	if err1 != nil || err2 != nil || leaf.CheckSignatureFrom(issuer) != nil {
		return tls.Certificate{}, false
	}
	// The chain is the leaf alone: an agent that pins sslmanager.cert has
	// the issuer, and the others do not verify at all.
	return ed, true
}

// certNames are the names the daemon's certificates carry.
func certNames() ([]string, []net.IP) {
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	return names, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
}

// SelfSigned writes a new self-signed ECDSA certificate, valid ten years
// like Wazuh's sslmanager.cert, and its key (mode 0600). It may sign the
// Ed25519 companion certificate.
func SelfSigned(certPath, keyPath string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	names, ips := certNames()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"muster"}, CommonName: "muster enrollment"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	return writePair(certPath, keyPath, tmpl, tmpl, key.Public(), key)
}

// signEd25519 writes an Ed25519 certificate signed by the pair in
// caCert/caKey, with the same names.
func signEd25519(caCert, caKey, certPath, keyPath string, now time.Time) error {
	ca, err := tls.LoadX509KeyPair(caCert, caKey)
	if err != nil {
		return err
	}
	parent, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	names, ips := certNames()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"muster"}, CommonName: "muster enrollment (Ed25519)"},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    parent.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names,
		IPAddresses: ips,
	}
	der, err := createCert(tmpl, parent, pub, ca.PrivateKey.(crypto.Signer))
	if err != nil {
		return err
	}
	return writePEM(certPath, keyPath, der, priv)
}

func writePair(certPath, keyPath string, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) error {
	der, err := createCert(tmpl, parent, pub, signer)
	if err != nil {
		return err
	}
	return writePEM(certPath, keyPath, der, signer)
}

func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
}

// writePEM writes a certificate and its private key (mode 0600).
func writePEM(certPath, keyPath string, der []byte, key any) error {
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(certPath), filepath.Dir(keyPath)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
