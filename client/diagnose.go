package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"
)

// connError wraps a transport failure in an *Error with a remediation.
func connError(method, path string, err error) *Error {
	return &Error{
		Method:      method,
		Path:        path,
		Title:       "Connection failed",
		Remediation: diagnoseConn(err),
		Err:         err,
		kind:        kindConnection,
	}
}

// diagnoseConn says how to fix a failure to reach the API.
func diagnoseConn(err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		dnsErr    *net.DNSError
		recErr    tls.RecordHeaderError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &unknownCA):
		return "the manager's certificate is not signed by a trusted CA: pass the CA (or, for the default self-signed setup, the manager's api/configuration/ssl/server.crt) with WithCAFile"
	case errors.As(err, &hostErr):
		return "the certificate does not name the host in the URL: connect by a name the certificate lists, or set the expected name with WithServerName"
	case errors.As(err, &invalid):
		return "the manager's certificate is invalid (" + invalid.Error() + "): renew it or check the client's clock"
	case errors.As(err, &verifyErr):
		return "the manager's certificate could not be verified: check the CA given with WithCAFile"
	case errors.Is(err, http.ErrSchemeMismatch):
		return "the server speaks plain HTTP on this port: use an http:// URL, or enable https in api.yaml"
	case errors.As(err, &recErr):
		return "the server did not answer with TLS: check the port and the scheme of the URL"
	case errors.As(err, &dnsErr):
		return "the host name does not resolve: check the URL and DNS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens on that address: check that wazuh-apid (or muster server) runs, the port (55000 by default), api.yaml host, and firewalls"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset: a TLS client-certificate requirement (api.yaml https.use_ca, see WithClientCert), a proxy or a restart of the API may be the cause"
	case isTLSAlert(err):
		return "the manager refused the TLS handshake: it may require a client certificate (WithClientCert) or other TLS settings"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time: the manager may be overloaded (large GET /agents pages are slow; use smaller pages) or a firewall drops packets; raise WithTimeout if the network is slow"
	}
	return "check the URL, the network path to the manager and that the API is running"
}

// isTLSAlert reports a TLS alert sent by the peer (e.g. certificate required).
func isTLSAlert(err error) bool {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"

}

// retryableConn reports whether a transport error may go away on its own.
func retryableConn(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recErr    tls.RecordHeaderError
		dnsErr    *net.DNSError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid),
		errors.As(err, &verifyErr), errors.As(err, &recErr), isTLSAlert(err),
		errors.Is(err, http.ErrSchemeMismatch):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	}
	return true
}
