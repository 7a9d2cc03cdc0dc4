package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// buildTLS turns the TLS options into a tls.Config; base may be nil.
func buildTLS(s *settings, base *tls.Config) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
	}
	pool := s.caPool
	if len(s.caFiles) > 0 {
		if pool == nil {
			pool = x509.NewCertPool()
		} else {
			pool = pool.Clone()
		}
		for _, f := range s.caFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("WithCAFile: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("WithCAFile: %s holds no PEM certificate (expected a file that starts with -----BEGIN CERTIFICATE-----)", f)
			}
		}
	}
	if pool != nil {
		cfg.RootCAs = pool
	}
	if s.certFile != "" {
		cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return nil, fmt.Errorf("WithClientCert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if s.serverName != "" {
		cfg.ServerName = s.serverName
	}
	if s.insecure {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// buildHTTPClient returns the *http.Client the Client uses, applying TLS options.
func buildHTTPClient(s *settings) (*http.Client, error) {
	if s.httpClient != nil && !s.tlsConfigured() {
		return s.httpClient, nil
	}
	var tr *http.Transport
	hc := &http.Client{CheckRedirect: noRedirects}
	if s.httpClient != nil {
		copied := *s.httpClient
		hc = &copied
		switch t := s.httpClient.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return nil, errors.New("TLS options need an *http.Transport, but WithHTTPClient gave a client with another RoundTripper")
		}
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
	}
	cfg, err := buildTLS(s, tr.TLSClientConfig)
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig = cfg
	hc.Transport = tr
	return hc, nil
}

// noRedirects stops redirects: the Wazuh API never redirects, so a redirect means
// the URL points at something else (a proxy login page, the dashboard).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
