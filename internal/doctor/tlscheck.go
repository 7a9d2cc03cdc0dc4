package doctor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
)

// CertInfo shows a certificate the way people compare them.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	Names      []string  `json:"names"` // subjectAltName DNS names and IP addresses
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	SHA256     string    `json:"sha256"`
	SelfSigned bool      `json:"self_signed"`
}

func certInfo(c *x509.Certificate) *CertInfo {
	sum := sha256.Sum256(c.Raw)
	hexs := make([]string, len(sum))
	for i, b := range sum {
		hexs[i] = fmt.Sprintf("%02X", b)
	}
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return &CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Names: names,
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), SHA256: strings.Join(hexs, ":"),
		SelfSigned: bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil}
}

// String renders the certificate on one line.
func (ci *CertInfo) String() string {
	return fmt.Sprintf("subject %q, issuer %q, names [%s], valid %s to %s, SHA-256 %s", ci.Subject, ci.Issuer,
		strings.Join(ci.Names, " "), ci.NotBefore.Format(time.DateOnly), ci.NotAfter.Format(time.DateOnly), ci.SHA256)
}

// clientOptions are the TLS options the SDK client would get.
func (p *probe) clientOptions() []client.Option {
	var opts []client.Option
	for _, f := range p.o.CAFiles {
		opts = append(opts, client.WithCAFile(f))
	}
	if p.o.CertFile != "" || p.o.KeyFile != "" {
		opts = append(opts, client.WithClientCert(p.o.CertFile, p.o.KeyFile))
	}
	if p.o.Insecure {
		opts = append(opts, client.WithInsecure())
	}
	return opts
}

// handshake connects to the address that accepted TCP and runs a TLS handshake.
func (p *probe) handshake(ctx context.Context, cfg *tls.Config) (tls.ConnectionState, error) {
	conn, err := p.dial(ctx, p.addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	tc := tls.Client(conn, cfg)
	tc.SetDeadline(time.Now().Add(p.o.Timeout))
	hctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return tls.ConnectionState{}, err
	}
	return tc.ConnectionState(), nil
}

// tls runs the handshake the client would, and on failure says why and how to fix it.
func (p *probe) tls(ctx context.Context) Step {
	if p.u.Scheme == "http" {
		p.hc = p.httpClient(nil)
		return Step{Status: Skip, Summary: "plain HTTP: no TLS to check"}
	}
	cfg, err := client.TLSConfig(p.clientOptions()...)
	if err != nil {
		return fail("the TLS options cannot be used", "check the files given to --ca, --cert and --key: "+err.Error(), err.Error())
	}
	if cfg.ServerName == "" {
		cfg.ServerName = p.host
	}
	p.hc = p.httpClient(cfg)
	offer := cfg.Clone()
	offer.NextProtos = []string{"h2", "http/1.1"} // what the SDK's transport offers
	st, err := p.handshake(ctx, offer)
	if err == nil {
		p.alpn = st.NegotiatedProtocol
		return p.tlsOK(st)
	}
	p.tlsErr = err
	// Look at the certificate without verifying it, to show it and to explain the failure.
	loose := cfg.Clone()
	loose.InsecureSkipVerify = true
	var info *CertInfo
	if raw, rerr := p.handshake(ctx, loose); rerr == nil && len(raw.PeerCertificates) > 0 {
		info = certInfo(raw.PeerCertificates[0])
	}
	s := p.tlsFailure(err, info)
	s.Certificate = info
	s.Evidence = append(s.Evidence, "handshake error: "+err.Error())
	return s
}

// tlsOK reports a good handshake and warns about what will break soon.
func (p *probe) tlsOK(st tls.ConnectionState) Step {
	leaf := st.PeerCertificates[0]
	info := certInfo(leaf)
	ver := tls.VersionName(st.Version)
	var s Step
	switch left := leaf.NotAfter.Sub(p.o.Now()); {
	case p.o.Insecure:
		s = warn(ver+" handshake, but certificate verification is disabled (--insecure): this certificate was not checked",
			p.trustFix(info), "anyone on the path could impersonate the manager and read the password")
	case left < 30*24*time.Hour:
		s = warn(fmt.Sprintf("%s with a trusted certificate that expires in %s (%s)", ver, roundDays(left), leaf.NotAfter.Format(time.DateOnly)),
			p.renewFix())
	default:
		s = ok(fmt.Sprintf("%s with a certificate trusted for %s", ver, p.host))
	}
	s.Certificate = info
	if st.NegotiatedProtocol != "" {
		s.Evidence = append(s.Evidence, "ALPN: the server chose "+st.NegotiatedProtocol)
	}
	return s
}

// tlsFailure classifies a failed handshake.
func (p *probe) tlsFailure(err error, info *CertInfo) Step {
	var (
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		unknown  x509.UnknownAuthorityError
		recErr   tls.RecordHeaderError
		verifErr *tls.CertificateVerificationError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &hostErr):
		names := "no names"
		if info != nil && len(info.Names) > 0 {
			names = strings.Join(info.Names, ", ")
		}
		s := fail(fmt.Sprintf("name mismatch: the certificate is for %s, not for %s", names, p.host),
			fmt.Sprintf("connect with a name the certificate lists (for example --url %s://%s), or give the manager a certificate whose subjectAltName includes %s (api.yaml https.cert and https.key)",
				p.u.Scheme, hostPortFor(firstName(info), p.port), p.host))
		if info != nil && info.SelfSigned && len(p.o.CAFiles) == 0 {
			s.Evidence = append(s.Evidence, "the certificate is also self-signed: once the name matches, "+p.trustFix(info))
		}
		return s
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		now := p.o.Now()
		if info != nil && now.Before(info.NotBefore) {
			return fail(fmt.Sprintf("the certificate is not valid before %s, and this machine's clock says %s", info.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339)),
				"one of the clocks is wrong: synchronise this machine and the manager with NTP")
		}
		when := "at an unknown date"
		if info != nil {
			when = fmt.Sprintf("on %s (%s ago)", info.NotAfter.Format(time.DateOnly), roundDays(now.Sub(info.NotAfter)))
		}
		return fail("the manager's certificate expired "+when, p.renewFix())
	case errors.As(err, &unknown) || (errors.As(err, &verifErr) && strings.Contains(msg, "unknown authority")):
		return p.untrusted(info)
	case errors.As(err, &recErr):
		if bytes.HasPrefix(recErr.RecordHeader[:], []byte("HTTP/")) {
			return fail("the server answers plain HTTP on this port, not HTTPS",
				fmt.Sprintf("use --url http://%s (unencrypted), or enable TLS on the API: api.yaml https: enabled: yes", hostPortFor(p.host, p.port)))
		}
		return fail(fmt.Sprintf("the server on port %s does not speak TLS (its first bytes are %q)", p.port, recErr.RecordHeader[:]),
			"check the port in --url: the API is on 55000; 1514 and 1515 are the agents' ports, 9200 the indexer's, 443 the dashboard's")
	case strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") ||
		strings.Contains(msg, "unknown certificate authority"):
		return fail("the manager requires a client certificate and refused this client's",
			"give --cert and --key with a certificate signed by the CA the manager trusts (api.yaml https.use_ca and https.ca)")
	case strings.Contains(msg, "protocol version") || strings.Contains(msg, "handshake failure") || strings.Contains(msg, "no cipher suite"):
		return fail("no TLS version or cipher suite in common with the manager (this client requires TLS 1.2 or newer)",
			"enable TLS 1.2 or newer on the manager (api.yaml https.ssl_protocol and ssl_ciphers)")
	case isTimeout(err):
		return fail(fmt.Sprintf("the server accepted the connection but did not complete a TLS handshake within %s", p.o.Timeout),
			"something that is not a TLS server, or a hung API process, holds the port: check what listens on it (ss -ltnp) and the API's logs")
	case errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset"):
		return fail("the server closed the connection during the TLS handshake",
			"the manager may require a client certificate (--cert, --key), or a proxy or another service holds the port")
	}
	return fail("the TLS handshake failed", "check the port and the TLS settings of the manager (api.yaml https)")
}

// untrusted explains a certificate no trusted CA signed.
func (p *probe) untrusted(info *CertInfo) Step {
	ev := []string{}
	if len(p.o.CAFiles) > 0 {
		ev = append(ev, "trusted CAs from --ca: "+strings.Join(caSubjects(p.o.CAFiles), "; "))
	}
	if info != nil && info.SelfSigned {
		summary := "the manager's certificate is self-signed and this client does not trust it"
		if len(p.o.CAFiles) > 0 {
			summary = "the manager's self-signed certificate is not the one in --ca (wrong CA file)"
		}
		return fail(summary, p.trustFix(info), ev...)
	}
	issuer := "an unknown issuer"
	if info != nil {
		issuer = fmt.Sprintf("%q", info.Issuer)
	}
	summary := "the manager's certificate is signed by " + issuer + ", which this client does not trust"
	if len(p.o.CAFiles) > 0 {
		summary = "the manager's certificate is signed by " + issuer + ", not by the CA in --ca (wrong CA file)"
	}
	return fail(summary, "give the issuing CA's certificate (PEM) with --ca FILE", ev...)
}

// trustFix says which file to trust, for muster and for Wazuh.
func (p *probe) trustFix(info *CertInfo) string {
	fp := ""
	if info != nil {
		fp = "; before trusting it, compare its SHA-256 fingerprint " + info.SHA256 +
			" with `openssl x509 -noout -fingerprint -sha256 -in server.crt` on the manager"
	}
	return fmt.Sprintf("trust the manager's certificate: --ca %s/ssl/server.crt for muster, or a copy of /var/ossec/api/configuration/ssl/server.crt for Wazuh%s",
		p.dataDir(), fp)
}

func (p *probe) renewFix() string {
	return fmt.Sprintf("renew the certificate: muster makes a new self-signed one at start when %s/ssl/server.crt and server.key are missing; Wazuh does the same for /var/ossec/api/configuration/ssl/ (restart wazuh-manager); then trust the new one with --ca",
		p.dataDir())
}

// caSubjects names the certificates in the CA files.
func caSubjects(files []string) []string {
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			out = append(out, f+": "+err.Error())
			continue
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				out = append(out, fmt.Sprintf("%s: %q", f, c.Subject.String()))
			}
		}
	}
	return out
}

func firstName(info *CertInfo) string {
	if info == nil || len(info.Names) == 0 {
		return "HOST"
	}
	return info.Names[0]
}

func hostPortFor(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

func roundDays(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Hour).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
