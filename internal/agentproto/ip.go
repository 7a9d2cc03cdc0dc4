package agentproto

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Address forms that Wazuh accepts in an enrollment IP: field and in the third
// column of client.keys (validate_op.c), and their canonical text:
//
//	any                     every address                         -> "any"
//	a.b.c.d                 one IPv4 host                         -> unchanged
//	a.b.c.d/n               IPv4 network, n in 0..32, no leading 0 -> unchanged
//	a.b.c.d/m.m.m.m         IPv4 network with a dotted netmask    -> unchanged
//	::ffff:a.b.c.d[/...]    IPv4-mapped IPv6                      -> the IPv4 part
//	h:h::h[/p]              IPv6, p in 0..128                     -> expanded, upper case,
//	                                                                 "/p" kept when p != 0
//
// One leading '!' (list negation in ossec.conf) is skipped. Octets have no
// leading zeros; IPv6 text carries no zone and no embedded dotted quad.

// AnyIP is the key IP that matches every source address.
const AnyIP = "any"

// IPRange is a parsed key IP: a host, a network or "any".
type IPRange struct {
	text string
	any  bool
	v6   bool
	addr [16]byte // masked address; IPv4 uses the first 4 bytes
	mask [16]byte
}

// ParseIPRange validates s like Wazuh does and returns the range it denotes.
func ParseIPRange(s string) (IPRange, error) {
	s = strings.TrimPrefix(s, "!")
	if s == AnyIP {
		return IPRange{text: AnyIP, any: true}, nil
	}
	if rest, ok := cutMappedPrefix(s); ok {
		if r, ok := parseIPv4Range(rest); ok {
			return r, nil
		}
		return IPRange{}, fmt.Errorf("%w: %q", ErrInvalidIP, s)
	}
	if r, ok := parseIPv4Range(s); ok {
		return r, nil
	}
	if r, ok := parseIPv6Range(s); ok {
		return r, nil
	}
	return IPRange{}, fmt.Errorf("%w: %q", ErrInvalidIP, s)
}

// NormalizeIP returns the canonical text of a valid address, or false.
func NormalizeIP(s string) (string, bool) {
	r, err := ParseIPRange(s)
	if err != nil {
		return "", false
	}
	return r.text, true
}

// String returns the canonical text of the range.
func (r IPRange) String() string { return r.text }

// IsAny reports whether the range is "any".
func (r IPRange) IsAny() bool { return r.any }

// SingleHost reports whether the range is exactly one IPv4 address; agents whose
// key IP is not a single host prefix their messages with "!ID!".
func (r IPRange) SingleHost() bool {
	return !r.any && !r.v6 && r.mask[0]&r.mask[1]&r.mask[2]&r.mask[3] == 0xff
}

// Host returns the text without any "/prefix", the form remoted indexes
// prefix-less agents by.
func (r IPRange) Host() string {
	h, _, _ := strings.Cut(r.text, "/")
	return h
}

// Contains reports whether the source address text src (as made by SourceIP)
// lies inside the range. "any" contains everything; families never mix.
func (r IPRange) Contains(src string) bool {
	if r.any {
		return true
	}
	if r.text == "" {
		return false // the zero IPRange contains nothing
	}
	a, err := netip.ParseAddr(src)
	if err != nil || a.Zone() != "" {
		return false
	}
	if a.Is4() != !r.v6 {
		return false
	}
	b := a.As16()
	raw := b[:]
	if a.Is4() {
		v4 := a.As4()
		raw = v4[:]
	}
	for i := range raw {
		if raw[i]&r.mask[i] != r.addr[i] {
			return false
		}
	}
	return true
}

// SourceIP turns a socket address into the text remoted and authd use: dotted
// IPv4 (also for IPv4-mapped IPv6) or fully expanded upper-case IPv6.
func SourceIP(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return expandIPv6(a.As16())
}

func cutMappedPrefix(s string) (string, bool) {
	if len(s) < 7 || s[0] != ':' || s[1] != ':' || s[6] != ':' {
		return "", false
	}
	if !strings.EqualFold(s[2:6], "ffff") {
		return "", false
	}
	return s[7:], true
}

func parseIPv4Range(s string) (IPRange, bool) {
	host, suffix, hasSuffix := strings.Cut(s, "/")
	a, ok := parseDottedQuad(host)
	if !ok {
		return IPRange{}, false
	}
	mask := uint32(0xffffffff)
	if hasSuffix {
		if m, ok := parseDottedQuad(suffix); ok {
			mask = m
		} else if n, ok := parseIPv4Prefix(suffix); ok {
			mask = ^uint32(0) << (32 - n)
			if n == 0 {
				mask = 0
			}
		} else {
			return IPRange{}, false
		}
	}
	r := IPRange{text: s}
	for i := 0; i < 4; i++ {
		shift := 24 - 8*i
		r.mask[i] = byte(mask >> shift)
		r.addr[i] = byte(a>>shift) & r.mask[i]
	}
	return r, true
}

// parseDottedQuad accepts exactly four decimal octets without leading zeros.
func parseDottedQuad(s string) (uint32, bool) {
	var v uint32
	parts := 0
	for {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 3 || (i > 1 && s[0] == '0') {
			return 0, false
		}
		n, _ := strconv.Atoi(s[:i])
		if n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
		parts++
		s = s[i:]
		if parts == 4 {
			return v, s == ""
		}
		if s == "" || s[0] != '.' {
			return 0, false
		}
		s = s[1:]
	}
}

// parseIPv4Prefix accepts 0..32 written as "3[0-2]" or "[1-2]?[0-9]".
func parseIPv4Prefix(s string) (int, bool) {
	if len(s) < 1 || len(s) > 2 || !allDigits(s) || (len(s) == 2 && s[0] == '0') {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n <= 32
}

// parseIPv6Prefix accepts "12[0-8]", "1[0-1][0-9]" or "[0-9]?[0-9]".
func parseIPv6Prefix(s string) (int, bool) {
	if len(s) < 1 || len(s) > 3 || !allDigits(s) {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	if len(s) == 3 && (s[0] != '1' || n > 128) {
		return 0, false
	}
	return n, true
}

func parseIPv6Range(s string) (IPRange, bool) {
	host, suffix, hasSuffix := strings.Cut(s, "/")
	if !strings.Contains(host, ":") || strings.ContainsAny(host, ".%") {
		return IPRange{}, false
	}
	if host == "::" && hasSuffix {
		return IPRange{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() {
		return IPRange{}, false
	}
	bits := 128
	if hasSuffix {
		n, ok := parseIPv6Prefix(suffix)
		if !ok {
			return IPRange{}, false
		}
		bits = n
	}
	raw := a.As16()
	r := IPRange{v6: true, text: expandIPv6(raw)}
	if bits != 0 && hasSuffix {
		r.text += "/" + strconv.Itoa(bits)
	}
	for i := 0; i < 16; i++ {
		n := min(max(bits-8*i, 0), 8)
		r.mask[i] = byte(0xff << (8 - n))
		r.addr[i] = raw[i] & r.mask[i]
	}
	return r, true
}

func expandIPv6(b [16]byte) string {
	const hexUpper = "0123456789ABCDEF"
	out := make([]byte, 0, 39)
	for i := 0; i < 16; i++ {
		if i > 0 && i%2 == 0 {
			out = append(out, ':')
		}
		out = append(out, hexUpper[b[i]>>4], hexUpper[b[i]&0x0f])
	}
	return string(out)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
