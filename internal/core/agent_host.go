package core

import (
	"bufio"
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
	rel := osRelease("/etc/os-release")
	if v := rel["NAME"]; v != "" {
		o.Name = Some(v)
	}
	if v := rel["ID"]; v != "" {
		o.Platform = Some(v)
	}
	if v := rel["VERSION_CODENAME"]; v != "" {
		o.Codename = Some(v)
	}
	if v := rel["VERSION_ID"]; v != "" {
		o.Version = Some(v)
		major, minor, ok := strings.Cut(v, ".")
		o.Major = Some(major)
		if ok {
			minor, _, _ = strings.Cut(minor, ".")
			o.Minor = Some(minor)
		}
	}
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

// osRelease reads KEY=value lines, unquoting values.
func osRelease(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}
