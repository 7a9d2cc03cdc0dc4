package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/config"
)

// TLSConfig builds the API's TLS configuration from the https section.
// Relative key, cert and ca names are files in sslDir; a missing key or
// certificate is replaced by a new self-signed pair, as Wazuh does.
func TLSConfig(h config.HTTPS, sslDir string, log *slog.Logger) (*tls.Config, error) {
	keyPath, certPath := inDir(sslDir, h.Key), inDir(sslDir, h.Cert)
	if !exists(keyPath) || !exists(certPath) {
		fp, err := SelfSigned(certPath, keyPath, time.Now())
		if err != nil {
			return nil, fmt.Errorf("create self-signed certificate: %w", err)
		}
		log.Info("created a self-signed TLS certificate", "cert", certPath, "sha256", fp)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certPath, keyPath, err)
	}
	if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
		sum := sha256.Sum256(leaf.Raw)
		log.Info("API TLS certificate", "cert", certPath, "subject", leaf.Subject.String(),
			"not_after", leaf.NotAfter.Format(time.RFC3339), "sha256", fingerprint(sum[:]))
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch h.SSLProtocol {
	case "tlsv1", "tlsv1.1":
		log.Warn("https.ssl_protocol " + h.SSLProtocol + " is deprecated and insecure; muster negotiates TLS 1.2 or newer")
	}
	if h.SSLCiphers != "" {
		suites, err := cipherSuites(h.SSLCiphers)
		if err != nil {
			return nil, err
		}
		cfg.CipherSuites = suites
	}
	if h.UseCA {
		caPath := inDir(sslDir, h.CA)
		pemData, err := os.ReadFile(caPath)
		if err != nil {
			return nil, fmt.Errorf("https.use_ca is on but the CA file cannot be read: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("https.ca %s holds no PEM certificate", caPath)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func inDir(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// SelfSigned writes a new self-signed certificate for localhost and this
// host's name, valid for a year, and its key (mode 0600). It returns the
// certificate's SHA-256 fingerprint. ECDSA P-256 keeps handshakes cheap.
func SelfSigned(certPath, keyPath string, now time.Time) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return "", err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"muster"}, CommonName: "muster manager API"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return "", err
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", err
	}
	if err := writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return fingerprint(sum[:]), nil
}

func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// cipherSuites maps an OpenSSL cipher list (as in api.yaml) to Go's TLS 1.2
// suites; TLS 1.3 suites are always on and not configurable.
func cipherSuites(list string) ([]uint16, error) {
	byName := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s.ID
	}
	openssl := map[string]string{
		"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
		"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
		"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
		"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
		"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
		"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
		"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	}
	var out []uint16
	for _, name := range strings.FieldsFunc(strings.ToUpper(list), func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if g, ok := openssl[name]; ok {
			name = g
		}
		id, ok := byName[name]
		if !ok {
			continue // OpenSSL keywords and TLS 1.3 names have no Go equivalent to pick
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, errors.New("https.ssl_ciphers names no cipher suite Go supports: use names such as ECDHE-ECDSA-AES128-GCM-SHA256")
	}
	return out, nil
}
