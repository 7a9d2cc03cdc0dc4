package agentsim

import (
	"slices"
	"strings"
)

// OS is what an agent says about its host in every keepalive: the uname(2)
// fields and the three os-release fields agentd reads (NAME, ID, VERSION).
//
// Unix keepalives carry "<sysname> |<node> |<kernel> |<build> |<arch>
// [<name>|<id>: <version>]"; Windows ones "<name> [Ver: <version>] |<node>
// |<arch>" (spec §5.3). The node is the agent's name.
type OS struct {
	Sysname string // uname -s: "Linux", "Darwin"; unused on Windows
	Kernel  string // uname -r: "6.1.0-25-amd64"
	Build   string // uname -v: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 (2024-08-26)"
	Arch    string // uname -m: "x86_64", "aarch64"
	Name    string // os-release NAME: "Debian GNU/Linux"
	ID      string // os-release ID, the platform: "debian"; "windows" selects the Windows layout
	Version string // os-release VERSION: "12 (bookworm)", "22.04.4 LTS (Jammy Jellyfish)"
}

// Uname is the keepalive's uname text for a host called node.
func (o OS) Uname(node string) string {
	if o.ID == "windows" {
		return o.Name + " [Ver: " + o.Version + "] |" + node + " |" + o.Arch
	}
	return o.Sysname + " |" + node + " |" + o.Kernel + " |" + o.Build + " |" + o.Arch +
		" [" + o.Name + "|" + o.ID + ": " + o.Version + "]"
}

// osPresets are hosts seen in real fleets, named <id>-<version>; a fleet
// file names one as `os: ubuntu-22.04` or starts from one with `os: {base: ...}`.
var osPresets = map[string]OS{
	"debian-12": {"Linux", "6.1.0-25-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 (2024-08-26)", "x86_64",
		"Debian GNU/Linux", "debian", "12 (bookworm)"},
	"debian-11": {"Linux", "5.10.0-32-amd64", "#1 SMP Debian 5.10.223-1 (2024-08-10)", "x86_64",
		"Debian GNU/Linux", "debian", "11 (bullseye)"},
	"ubuntu-22.04": {"Linux", "5.15.0-105-generic", "#115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024", "x86_64",
		"Ubuntu", "ubuntu", "22.04.4 LTS (Jammy Jellyfish)"},
	"ubuntu-24.04": {"Linux", "6.8.0-45-generic", "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024",
		"x86_64", "Ubuntu", "ubuntu", "24.04.1 LTS (Noble Numbat)"},
	"ubuntu-18.04": {"Linux", "4.15.0-213-generic", "#224-Ubuntu SMP Mon Jun 19 13:30:12 UTC 2023", "x86_64",
		"Ubuntu", "ubuntu", "18.04.6 LTS (Bionic Beaver)"},
	"centos-7": {"Linux", "3.10.0-1160.119.1.el7.x86_64", "#1 SMP Tue Jun 4 14:43:51 UTC 2024", "x86_64",
		"CentOS Linux", "centos", "7.9"},
	"rhel-9": {"Linux", "5.14.0-427.13.1.el9_4.x86_64", "#1 SMP PREEMPT_DYNAMIC Wed Apr 10 10:29:16 EDT 2024",
		"x86_64", "Red Hat Enterprise Linux", "rhel", "9.4 (Plow)"},
	"amzn-2023": {"Linux", "6.1.109-118.189.amzn2023.x86_64", "#1 SMP PREEMPT_DYNAMIC Tue Sep 10 08:59:12 UTC 2024",
		"x86_64", "Amazon Linux", "amzn", "2023"},
	"macos-14": {"Darwin", "23.6.0", "Darwin Kernel Version 23.6.0: Mon Jul 29 21:14:46 PDT 2024; " +
		"root:xnu-10063.141.2~1/RELEASE_ARM64_T6031", "arm64", "macOS", "darwin", "14.6.1 (Sonoma)"},
	"windows-server-2022": {"", "", "", "x86_64", "Microsoft Windows Server 2022 Datacenter", "windows",
		"10.0.20348.2700"},
	"windows-server-2012r2": {"", "", "", "x86_64", "Microsoft Windows Server 2012 R2 Standard", "windows",
		"6.3.9600"},
	"windows-11": {"", "", "", "x86_64", "Microsoft Windows 11 Pro", "windows", "10.0.22631.4169"},
}

// defaultOS is the host of agents that name none: today's Debian 12.
var defaultOS = OS{"Linux", "6.1.0-18-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "x86_64",
	"Debian GNU/Linux", "debian", "12 (bookworm)"}

// OSPresets lists the preset names, sorted (for help and errors).
func OSPresets() []string {
	out := make([]string, 0, len(osPresets))
	for k := range osPresets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Label is one agent label (ossec.conf <labels>); Hidden ones are sent with
// a leading '!' and shown only to the manager.
type Label struct {
	Key, Value string
	Hidden     bool
}

// line is the label as the keepalive carries it: `"key":value`, the value
// unquoted, as agentd's labels_format writes it.
func (l Label) line() string {
	p := ""
	if l.Hidden {
		p = "!"
	}
	return p + `"` + l.Key + `":` + l.Value
}

// labelLines formats labels for AgentOptions.Labels.
func labelLines(ls []Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.line())
	}
	return out
}

// validLabelText reports whether s can sit in a keepalive line.
func validLabelText(s string) bool { return !strings.ContainsAny(s, "\n\r\x00") }
