package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/config"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSelfSignedOnFirstUse(t *testing.T) {
	dir := t.TempDir()
	h := config.Default().API.HTTPS
	cfg, err := TLSConfig(h, dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "server.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, st.Mode())
	}
	leaf, _ := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Errorf("not valid for localhost: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("not valid for 127.0.0.1: %v", err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("min version %x", cfg.MinVersion)
	}
	// A second start reuses the pair.
	cfg2, err := TLSConfig(h, dir, quietLog())
	if err != nil || string(cfg2.Certificates[0].Certificate[0]) != string(cfg.Certificates[0].Certificate[0]) {
		t.Fatal("certificate was regenerated")
	}
}

func TestMismatchedKeyIsAnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := SelfSigned(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := SelfSigned(filepath.Join(dir, "other.crt"), filepath.Join(dir, "other.key"), time.Now()); err != nil {
		t.Fatal(err)
	}
	h := config.Default().API.HTTPS
	h.Key = "other.key"
	if _, err := TLSConfig(h, dir, quietLog()); err == nil {
		t.Fatal("a key that does not match the certificate was accepted")
	}
}

func TestCipherList(t *testing.T) {
	ids, err := cipherSuites("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:!aNULL")
	if err != nil || len(ids) != 2 || ids[0] != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("%v %v", ids, err)
	}
	if _, err := cipherSuites("RC4-MD5"); err == nil {
		t.Fatal("a list with no usable suite was accepted")
	}
}

// TestUseCA requires client certificates signed by the configured CA.
func TestUseCA(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	os.WriteFile(filepath.Join(dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "scanner"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	clDER, _ := x509.CreateCertificate(rand.Reader, clTmpl, caCert, &clientKey.PublicKey, caKey)

	h := config.Default().API.HTTPS
	h.UseCA = true
	cfg, err := TLSConfig(h, dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
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
			go func() { c.(*tls.Conn).Handshake(); c.Write([]byte("x")); c.Close() }()
		}
	}()
	dial := func(certs []tls.Certificate) error {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, Certificates: certs})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 1)) // TLS 1.3 reports a refused client certificate on first read
		return err
	}
	if err := dial(nil); err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
	good := tls.Certificate{Certificate: [][]byte{clDER}, PrivateKey: clientKey}
	if err := dial([]tls.Certificate{good}); err != nil {
		t.Fatalf("a client with a CA-signed certificate was refused: %v", err)
	}
}
