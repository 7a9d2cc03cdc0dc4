package manager

import (
	"crypto/tls"
	"net"
)

func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener {
	c := cfg.Clone()
	c.NextProtos = []string{"h2", "http/1.1"}
	return tls.NewListener(ln, c)
}
