package manager

import (
	"crypto/tls"
	"net"
)

// tlsListener serves HTTP/1.1 over TLS, as Wazuh's API server does.
func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener {
	c := cfg.Clone()
	c.NextProtos = []string{"http/1.1"}
	return tls.NewListener(ln, c)
}
