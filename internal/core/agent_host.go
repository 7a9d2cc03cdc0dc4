package core

import (
	"os"
	"runtime"
	"strings"
)

// hostOS describes the manager's own system for agent 000, from
// /etc/os-release and the kernel's identity, the way a Wazuh manager fills
// its row at start.
func hostOS(hostname string) AgentOS {
	var o AgentOS
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	}
	o.Arch = Some(arch)
	if runtime.GOOS != "linux" {
		o.Platform = Some(runtime.GOOS)
		o.Name = Some(runtime.GOOS)
		o.Uname = Some(runtime.GOOS + " |" + hostname + " |" + arch)
		return o
	}
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		b, _ = os.ReadFile("/usr/lib/os-release")
	}
	rel := parseOSRelease(b)
	o.Name, o.Platform, o.Version, o.Codename, o.Major, o.Minor = rel.Name, rel.Platform, rel.Version, rel.Codename, rel.Major, rel.Minor
	release := readTrim("/proc/sys/kernel/osrelease")
	build := readTrim("/proc/sys/kernel/version")
	o.Uname = Some("Linux |" + hostname + " |" + release + " |" + build + " |" + arch)
	return o
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// releaseOS is what agent 000's row takes from os-release.
type releaseOS struct {
	Name, Platform, Version, Codename, Major, Minor Null[string]
}

// parseOSRelease applies the rules of Wazuh's get_unix_version (4.14) to an
// os-release file: the first NAME, ID (its first word) and VERSION win;
// VERSION_ID counts only when no VERSION line is there; a trailing
// " (codename)" is split off the version; major and minor are its leading
// numbers. Arch and openSUSE Tumbleweed report no version; a file with
// neither version line reports "0.0" without major or minor (Wazuh would
// first try older release files such as /etc/redhat-release, which muster
// does not read). Values lose one pair of double quotes, as in Wazuh.
func parseOSRelease(b []byte) releaseOS {
	var name, id, version, versionID string
	var haveName, haveID, haveVersion, haveVersionID bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "NAME":
			if !haveName {
				name, haveName = unquote(v), true
			}
		case "ID":
			if !haveID {
				first, _, _ := strings.Cut(v, " ")
				id, haveID = unquote(first), true
			}
		case "VERSION":
			if !haveVersion {
				version, haveVersion = unquote(v), true
			}
		case "VERSION_ID":
			if !haveVersionID {
				versionID, haveVersionID = unquote(v), true
			}
		}
	}
	var o releaseOS
	if haveName {
		o.Name = Some(name)
	}
	if haveID {
		o.Platform = Some(id)
	}
	if !haveVersion && haveVersionID {
		version, haveVersion = versionID, true
	}
	if id == "arch" || id == "opensuse-tumbleweed" {
		version = ""
	}
	switch {
	case !haveVersion:
		o.Version = Some("0.0")
		return o
	case version == "":
		o.Version = Some("")
		return o
	}
	if i := strings.Index(version, " ("); i >= 0 {
		o.Codename = Some(strings.TrimSuffix(version[i+2:], ")"))
		version = version[:i]
	}
	o.Version = Some(version)
	if major := leadingDigits(version); major != "" {
		o.Major = Some(major)
		if rest := version[len(major):]; strings.HasPrefix(rest, ".") {
			if minor := leadingDigits(rest[1:]); minor != "" {
				o.Minor = Some(minor)
			}
		}
	}
	return o
}

// unquote drops a leading double quote and everything from the next one.
func unquote(v string) string {
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		if i := strings.IndexByte(v, '"'); i >= 0 {
			v = v[:i]
		}
	}
	return v
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
