package coverage

import (
	"fmt"
	"net/netip"
	"strings"
)

// Matcher normalises the identifiers records are joined by.
type Matcher struct {
	hostname      string // short, fqdn or off
	domains       []string
	ignoreMACs    map[string]bool
	ignoreSerials map[string]bool
	ignoreNames   map[string]bool
}

// Serial numbers that firmware and imaging tools fill in when there is none.
var placeholderSerials = []string{"", "0", "00000000", "000000000000", "none", "null", "n/a", "na", "unknown",
	"not specified", "not applicable", "not available", "default string", "to be filled by o.e.m.",
	"to be filled by oem", "system serial number", "chassis serial number", "base board serial number",
	"serial number", "0123456789", "123456789", "1234567890", "invalid", "o.e.m.", "oem", "xxxxxxxxxx"}

// MACs shared by many machines: host-side adapters of hypervisors and VPN
// clients that carry the same address on every installation.
var sharedMACs = []string{
	"00:50:56:c0:00:01", "00:50:56:c0:00:08", // VMware Workstation VMnet1 / VMnet8 host adapters
	"00:05:9a:3c:7a:00", // Cisco AnyConnect virtual adapter
	"00:09:0f:fe:00:01", // Fortinet FortiClient virtual adapter
	"00:ff:00:00:00:00", "00:11:22:33:44:55", "00:00:00:00:00:01", "01:02:03:04:05:06",
	"ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00",
}

var defaultIgnoredNames = []string{"localhost", "localhost.localdomain", "unknown", "none", "null", "n/a", "-"}

func newMatcher(c MatchConfig) (Matcher, error) {
	m := Matcher{hostname: c.Hostname, ignoreMACs: map[string]bool{}, ignoreSerials: map[string]bool{}, ignoreNames: map[string]bool{}}
	switch m.hostname {
	case "":
		m.hostname = "short"
	case "short", "fqdn", "off":
	default:
		return m, fmt.Errorf("hostname: %q is not short, fqdn or off", c.Hostname)
	}
	for _, d := range c.Domains {
		d = strings.Trim(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" {
			return m, fmt.Errorf("domains: an empty domain")
		}
		m.domains = append(m.domains, "."+d)
	}
	for _, s := range placeholderSerials {
		m.ignoreSerials[s] = true
	}
	for _, s := range c.IgnoreSerials {
		m.ignoreSerials[strings.ToLower(strings.TrimSpace(s))] = true
	}
	for _, s := range sharedMACs {
		m.ignoreMACs[s] = true
	}
	for _, s := range c.IgnoreMACs {
		mac, ok := parseMAC(s)
		if !ok {
			return m, fmt.Errorf("ignore_macs: %q is not a MAC address", s)
		}
		m.ignoreMACs[mac] = true
	}
	for _, s := range defaultIgnoredNames {
		m.ignoreNames[s] = true
	}
	for _, s := range c.IgnoreNames {
		m.ignoreNames[strings.ToLower(strings.TrimSpace(s))] = true
	}
	return m, nil
}

// Serial normalises a serial number; "" when it identifies nothing.
func (m Matcher) Serial(s string) string {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	if m.ignoreSerials[low] || sameRune(low) {
		return ""
	}
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// sameRune reports a string made of one repeated character ("0000", "XXXX").
func sameRune(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return len(s) > 1
}

// MAC normalises a MAC address to lower-case colon form; "" when it is not
// one, or when it identifies no single machine: multicast, locally
// administered (randomised Wi-Fi, containers, most virtual NICs) and the
// well-known shared and placeholder addresses.
func (m Matcher) MAC(s string) string {
	mac, ok := parseMAC(s)
	if !ok || m.ignoreMACs[mac] {
		return ""
	}
	first := hexByte(mac[0], mac[1])
	if first&0x01 != 0 || first&0x02 != 0 {
		return ""
	}
	return mac
}

// parseMAC reads 12 hex digits in the usual spellings: 00:1A:2B:3C:4D:5E,
// 00-1a-2b-3c-4d-5e, 001a.2b3c.4d5e, 001a2b3c4d5e.
func parseMAC(s string) (string, bool) {
	var hex [12]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		case c == ':' || c == '-' || c == '.' || c == ' ':
			continue
		default:
			return "", false
		}
		if n == 12 {
			return "", false
		}
		hex[n] = c
		n++
	}
	if n != 12 {
		return "", false
	}
	var b strings.Builder
	b.Grow(17)
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hex[i])
		b.WriteByte(hex[i+1])
	}
	return b.String(), true
}

func hexByte(hi, lo byte) byte {
	v := func(c byte) byte {
		if c >= 'a' {
			return c - 'a' + 10
		}
		return c - '0'
	}
	return v(hi)<<4 | v(lo)
}

// Hostname normalises a host name for joining; "" when names are not used,
// or the name identifies nothing (empty, localhost, an IP address).
func (m Matcher) Hostname(s string) string {
	if m.hostname == "off" {
		return ""
	}
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if s == "" || m.ignoreNames[s] {
		return ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	if m.hostname == "short" {
		if len(m.domains) == 0 {
			s, _, _ = strings.Cut(s, ".")
		} else {
			for _, d := range m.domains {
				if t, ok := strings.CutSuffix(s, d); ok && t != "" {
					s = t
					break
				}
			}
		}
	}
	if s == "" || m.ignoreNames[s] {
		return ""
	}
	return s
}

// IP normalises an address used as corroboration; "" for unspecified,
// loopback and link-local ones.
func IP(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		if p, perr := netip.ParsePrefix(strings.TrimSpace(s)); perr == nil {
			a = p.Addr()
		} else {
			return ""
		}
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() {
		return ""
	}
	return a.String()
}
