package agentql

import (
	"fmt"
	"strconv"
	"strings"
)

// spaceBeforeV applies Wazuh's rewrite of every version value in a filter:
// an ASCII letter directly followed by "v" gets a space ("wazuhv4" -> "wazuh v4").
func spaceBeforeV(s string) string {
	if !strings.Contains(s, "v") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if isASCIILetter(s[i]) && i+1 < len(s) && s[i+1] == 'v' {
			b.WriteString(" v")
			i++
		}
	}
	return b.String()
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// NormalizeVersionFilter turns the value of the version query parameter
// into Wazuh's stored form: "X.Y.Z" and "vX.Y.Z" become "wazuh vX.Y.Z",
// "wazuh X.Y.Z" becomes "wazuh vX.Y.Z" (case-insensitive; the comparison
// ignores case anyway); anything else is returned unchanged.
func NormalizeVersionFilter(v string) string {
	low := strings.ToLower(v)
	switch {
	case isTriple(strings.TrimPrefix(low, "v")):
		return "wazuh v" + strings.TrimLeft(v, "vV")
	case strings.HasPrefix(low, "wazuh ") && isTriple(low[len("wazuh "):]):
		return v[:len("wazuh")] + " v" + v[len("wazuh "):]
	}
	return v
}

// isTriple reports whether s is exactly digits.digits.digits.
func isTriple(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !isDigits(p) {
			return false
		}
	}
	return true
}

// VersionKey returns a key that orders agent versions numerically when
// compared as plain text: "Wazuh v4.9.0" -> "0000000004.0000000009.0000000000",
// which sorts before the key of "Wazuh v4.14.7". Like Wazuh's sort, only
// X.Y.Z counts (suffixes such as "-rc1" are ignored) and a version that does
// not parse ranks with 0.0.0. The store keeps it in VersionKeyColumn.
func VersionKey(v string) string {
	x, y, z := versionTriple(v)
	return fmt.Sprintf("%010d.%010d.%010d", x, y, z)
}

// CompareVersions orders two agent versions the way VersionKey does.
func CompareVersions(a, b string) int { return strings.Compare(VersionKey(a), VersionKey(b)) }

// versionTriple reads "[Wazuh ][v]X.Y.Z..." (case-insensitive) into numbers,
// each capped at ten digits; anything else is 0.0.0.
func versionTriple(v string) (x, y, z uint64) {
	s := strings.TrimSpace(v)
	if len(s) >= 5 && strings.EqualFold(s[:5], "wazuh") {
		s = strings.TrimLeft(s[5:], " ")
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	var out [3]uint64
	for i := range out {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || (i < 2 && (j == len(s) || s[j] != '.')) {
			return 0, 0, 0
		}
		n, err := strconv.ParseUint(s[:j], 10, 64)
		if err != nil || n > 9999999999 {
			n = 9999999999
		}
		out[i] = n
		s = s[j:]
		if i < 2 {
			s = s[1:]
		}
	}
	return out[0], out[1], out[2]
}
