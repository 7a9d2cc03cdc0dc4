package agentproto

import (
	"strings"
)

// Keepalive body (spec §5.3), sent every notify_time after "#!-", lines ending
// in LF:
//
//	<uname> - Wazuh vX.Y.Z[ / <md5 of agent.conf>]
//	<label lines: "key":value | !"key":value (hidden) | #"key":value (system)>
//	<md5 of merged.mg, or x> merged.mg
//	[#"_agent_ip":<agent address>]
//
// Unix uname: "<sysname> |<node> |<release> |<version> |<machine> [<os name>|<platform>: <os version>]";
// Windows:    "<os name> [Ver: <x.y.z>] |<node> |<arch>".
const (
	agentIPLabel   = `#"_agent_ip":`
	mergedFileName = "merged.mg"
	// NoMergedSum is what an agent reports before it has any merged.mg.
	NoMergedSum = "x"
)

// OSInfo is the operating-system description the manager stores.
type OSInfo struct {
	Name     string // "Debian GNU/Linux", "Microsoft Windows 10 Pro"
	Platform string // "debian", "ubuntu", "windows"
	Version  string // "12", "22.04.3 LTS", "10.0.19045.3570"
	Major    string
	Minor    string
	Build    string // Windows only
	Codename string // "bookworm"
	Arch     string // "x86_64"
	Uname    string // the uname text before " [" (os_uname)
}

// Keepalive is a parsed keepalive, everything the registry keeps from it.
type Keepalive struct {
	Uname     string   // full text left of " - " on the uname line
	Version   string   // "Wazuh v4.14.7": the "Wazuh " prefix is kept, as the reference does
	ConfigSum string   // md5 of the shared agent.conf; empty when absent
	MergedSum string   // md5 of merged.mg or NoMergedSum; empty when absent
	AgentIP   string   // from #"_agent_ip":; empty when absent
	Labels    []string // label lines other than _agent_ip, in order
	OS        OSInfo
}

// ParseKeepalive parses a keepalive body (the text after "#!-") like remoted:
// it needs a LF (else ErrInvalidKeepalive), drops what follows the last LF and
// reads the remaining lines one by one. Later lines of the same kind win.
func ParseKeepalive(body string) (Keepalive, error) {
	last := strings.LastIndexByte(body, '\n')
	if last < 0 {
		return Keepalive{}, ErrInvalidKeepalive
	}
	var k Keepalive
	for _, line := range strings.Split(body[:last], "\n") {
		if line == "" {
			continue
		}
		switch line[0] {
		case '#', '!', '"':
			if ip, ok := strings.CutPrefix(line, agentIPLabel); ok {
				k.AgentIP = ip
			} else {
				k.Labels = append(k.Labels, line)
			}
			continue
		}
		if uname, rest, ok := strings.Cut(line, " - "); ok {
			k.Uname, k.OS = uname, parseUname(uname)
			if v, sum, ok := strings.Cut(rest, " / "); ok {
				k.Version, k.ConfigSum = v, sum
			} else if i := strings.Index(rest, "Wazuh"); i >= 0 {
				k.Version = rest[i:]
			}
		} else if sum, file, ok := strings.Cut(line, " "); ok && strings.HasPrefix(file, mergedFileName[:8]) {
			k.MergedSum = sum
		}
	}
	return k, nil
}

// Format returns the keepalive as an agent sends it, "#!-" and final LF
// included; an empty MergedSum is sent as NoMergedSum.
func (k Keepalive) Format() []byte {
	var b strings.Builder
	b.WriteString(ControlHeader + k.Uname + " - " + k.Version)
	if k.ConfigSum != "" {
		b.WriteString(" / " + k.ConfigSum)
	}
	b.WriteByte('\n')
	for _, l := range k.Labels {
		b.WriteString(l + "\n")
	}
	sum := k.MergedSum
	if sum == "" {
		sum = NoMergedSum
	}
	b.WriteString(sum + " " + mergedFileName + "\n")
	if k.AgentIP != "" {
		b.WriteString(agentIPLabel + k.AgentIP + "\n")
	}
	return []byte(b.String())
}

// archNames are looked for, in this order, in a Unix uname.
var archNames = []string{"x86_64", "i386", "i686", "sparc", "amd64", "i86pc", "ia64", "AIX",
	"armv6", "armv7", "aarch64", "arm64"}

// parseUname splits the uname part of a keepalive into OS fields the way
// parse_uname_string does.
func parseUname(u string) OSInfo {
	var o OSInfo
	if name, ver, ok := strings.Cut(u, " [Ver: "); ok {
		o.Name, o.Uname, o.Platform = name, name, "windows"
		if v, after, ok := strings.Cut(ver, "]"); ok {
			ver = v
			if i := strings.LastIndexByte(after, '|'); i >= 0 {
				arch := strings.TrimLeft(after[i+1:], " ")
				arch, _, _ = strings.Cut(arch, " ")
				o.Arch = arch
			}
		}
		o.Version = ver
		o.Major, o.Minor, o.Build = versionParts(ver, true)
		return o
	}
	head, distro, ok := strings.Cut(u, " [")
	o.Uname = head
	if ok {
		name, ver, hasVer := strings.Cut(distro, ": ")
		if hasVer {
			ver = strings.TrimSuffix(ver, "]")
			if v, code, ok := strings.Cut(ver, " ("); ok {
				ver, o.Codename = v, strings.TrimSuffix(code, ")")
			}
			o.Version = ver
			o.Major, o.Minor, _ = versionParts(ver, false)
			if o.Minor == "" {
				o.Minor = suseServicePack(ver)
			}
		} else {
			name = strings.TrimSuffix(name, "]")
		}
		o.Name, o.Platform, _ = strings.Cut(name, "|")
	}
	for _, a := range archNames {
		if strings.Contains(head, a) {
			o.Arch = a
			break
		}
	}
	return o
}

// versionParts reads "major[.minor[.build(.n)*]]" from the start of v.
func versionParts(v string, withBuild bool) (major, minor, build string) {
	major, rest := leadingDigits(v)
	if major == "" || !strings.HasPrefix(rest, ".") {
		return major, "", ""
	}
	minor, rest = leadingDigits(rest[1:])
	if minor == "" || !withBuild || !strings.HasPrefix(rest, ".") {
		return major, minor, ""
	}
	build, rest = leadingDigits(rest[1:])
	for build != "" && strings.HasPrefix(rest, ".") {
		more, r := leadingDigits(rest[1:])
		if more == "" {
			break
		}
		build += "." + more
		rest = r
	}
	return major, minor, build
}

// suseServicePack reads the minor version of "15-SP7" style versions.
func suseServicePack(v string) string {
	major, rest := leadingDigits(v)
	if major == "" || len(rest) < 3 || rest[0] != '-' || !strings.EqualFold(rest[1:3], "sp") {
		return ""
	}
	sp, _ := leadingDigits(rest[3:])
	return sp
}

func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}
