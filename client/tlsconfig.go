package client

import "crypto/tls"

// TLSConfig returns the TLS configuration a Client created with the same
// options would use (trusted CAs, client certificate, server name, insecure),
// so that tools diagnosing a connection see what the Client sees. Options
// that do not concern TLS are accepted and ignored.
func TLSConfig(opts ...Option) (*tls.Config, error) {
	s := defaultSettings()
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	return buildTLS(&s, nil)
}
