package auth

import (
	"net/netip"
	"strings"
)

// ClientKey is what a login block or a rate limit counts against: an IPv4
// address itself, the /64 network of an IPv6 address. One IPv6 host usually
// holds a whole /64 and could otherwise use a fresh address for every
// attempt.
func ClientKey(ip string) string {
	if !strings.Contains(ip, ":") {
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4In6() {
		return a.Unmap().String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
