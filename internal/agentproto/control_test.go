package agentproto

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The three examples of the table in spec §5.3.
func TestParseKeepaliveExamples(t *testing.T) {
	debian := strings.TrimPrefix(vecKeepalivePayload, ControlHeader)
	ubuntu := "Linux |ubu |5.15.0-91-generic |#101-Ubuntu SMP |x86_64 [Ubuntu|ubuntu: 22.04.3 LTS (Jammy Jellyfish)] - Wazuh v4.14.7\n" +
		"x merged.mg\n"
	windows := "Microsoft Windows 10 Pro [Ver: 10.0.19045.3570] |DESKTOP-X |x86_64 - Wazuh v4.14.7 / 0123456789abcdef0123456789abcdef\n" +
		"d6e3ac3e75ca0319af3e7c262776f331 merged.mg\n#\"_agent_ip\":192.168.1.20\n"
	cases := []struct {
		name string
		body string
		want Keepalive
	}{
		{"debian", debian, Keepalive{
			Uname:     "Linux |newagent-host |6.1.0-18-amd64 |#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) |x86_64 [Debian GNU/Linux|debian: 12 (bookworm)]",
			Version:   "Wazuh v4.14.7",
			ConfigSum: "ab73af41699f13fdd81903b5f23d8d00",
			MergedSum: "d6e3ac3e75ca0319af3e7c262776f331",
			AgentIP:   "10.0.0.8",
			Labels:    []string{`"env":"prod"`},
			OS: OSInfo{Name: "Debian GNU/Linux", Platform: "debian", Version: "12", Major: "12", Codename: "bookworm",
				Arch: "x86_64", Uname: "Linux |newagent-host |6.1.0-18-amd64 |#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) |x86_64"},
		}},
		{"ubuntu", ubuntu, Keepalive{
			Uname:     "Linux |ubu |5.15.0-91-generic |#101-Ubuntu SMP |x86_64 [Ubuntu|ubuntu: 22.04.3 LTS (Jammy Jellyfish)]",
			Version:   "Wazuh v4.14.7",
			MergedSum: "x",
			OS: OSInfo{Name: "Ubuntu", Platform: "ubuntu", Version: "22.04.3 LTS", Major: "22", Minor: "04",
				Codename: "Jammy Jellyfish", Arch: "x86_64", Uname: "Linux |ubu |5.15.0-91-generic |#101-Ubuntu SMP |x86_64"},
		}},
		{"windows", windows, Keepalive{
			Uname:     "Microsoft Windows 10 Pro [Ver: 10.0.19045.3570] |DESKTOP-X |x86_64",
			Version:   "Wazuh v4.14.7",
			ConfigSum: "0123456789abcdef0123456789abcdef",
			MergedSum: "d6e3ac3e75ca0319af3e7c262776f331",
			AgentIP:   "192.168.1.20",
			OS: OSInfo{Name: "Microsoft Windows 10 Pro", Platform: "windows", Version: "10.0.19045.3570", Major: "10",
				Minor: "0", Build: "19045.3570", Arch: "x86_64", Uname: "Microsoft Windows 10 Pro"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKeepalive(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if string(got.Format()) != ControlHeader+c.body {
				t.Errorf("Format = %q", got.Format())
			}
		})
	}
}

func TestParseKeepaliveEdges(t *testing.T) {
	if _, err := ParseKeepalive("Linux |h - Wazuh v4.14.7"); !errors.Is(err, ErrInvalidKeepalive) {
		t.Fatalf("no LF: %v", err)
	}
	// What follows the last LF is dropped: the QA samples lose their _agent_ip.
	k, err := ParseKeepalive("Linux |h |x86_64 - Wazuh v4.14.7\nx merged.mg\n#\"_agent_ip\":1.2.3.4")
	if err != nil || k.AgentIP != "" || k.MergedSum != "x" || k.OS.Arch != "x86_64" || k.OS.Name != "" {
		t.Fatalf("trailing text: %+v %v", k, err)
	}
	// No " / ": the version is the text from "Wazuh" on; labels of all kinds are kept.
	k, _ = ParseKeepalive("SunOS h 5.11 i86pc - extra Wazuh v4.14.7\n!\"hidden\":1\n#\"_manager\":m\nabc merged.mgX\n\n")
	want := Keepalive{Uname: "SunOS h 5.11 i86pc", Version: "Wazuh v4.14.7", MergedSum: "abc",
		Labels: []string{`!"hidden":1`, `#"_manager":m`}, OS: OSInfo{Arch: "i86pc", Uname: "SunOS h 5.11 i86pc"}}
	if diff := cmp.Diff(want, k); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// SUSE service packs give the minor version; an OS without ": " keeps its bracket-less name.
	k, _ = ParseKeepalive("Linux |s |5.14 |#1 |aarch64 [SLES|sles: 15-SP7] - Wazuh v4.14.7\n")
	if k.OS.Major != "15" || k.OS.Minor != "7" || k.OS.Arch != "aarch64" || k.OS.Platform != "sles" {
		t.Errorf("suse: %+v", k.OS)
	}
	k, _ = ParseKeepalive("Darwin |mac |23.0 |x |arm64 [macOS] - Wazuh v4.14.7\n")
	if k.OS.Name != "macOS" || k.OS.Platform != "" || k.OS.Arch != "arm64" {
		t.Errorf("no version: %+v", k.OS)
	}
	k, _ = ParseKeepalive("Microsoft Windows Server [Ver: 6.3] - Wazuh v4.14.7\n")
	if k.OS.Version != "6.3" || k.OS.Major != "6" || k.OS.Minor != "3" || k.OS.Arch != "" {
		t.Errorf("old windows: %+v", k.OS)
	}
}

func TestParseAgentControl(t *testing.T) {
	cases := []struct {
		in   string
		kind AgentKind
		st   Startup
		ack  string
	}{
		{vecStartupPayload, AgentStartup, Startup{Info: true, Version: "v4.14.7", HasVersion: true}, MsgAck},
		{MsgStartupLegacy, AgentStartup, Startup{}, MsgAck},
		{"#!-agent startup {not json", AgentStartup, Startup{}, MsgAck},
		{`#!-agent startup {"version":"v4.14.7"} trailing`, AgentStartup, Startup{Info: true, Version: "v4.14.7", HasVersion: true}, MsgAck},
		{`#!-agent startup {"Version":"v4.2.0"}`, AgentStartup, Startup{Info: true, Version: "v4.2.0", HasVersion: true}, MsgAck},
		{`#!-agent startup {"name":"x"}`, AgentStartup, Startup{Info: true}, `#!-err {"message":"Couldn't retrieve version"}`},
		{`#!-agent startup {"version":4}`, AgentStartup, Startup{Info: true}, `#!-err {"message":"Couldn't retrieve version"}`},
		{`#!-agent startup {"version":"v4.15.0"}`, AgentStartup, Startup{Info: true, Version: "v4.15.0", HasVersion: true},
			`#!-err {"message":"Agent version must be lower or equal to manager version"}`},
		{vecShutdownPayload, AgentShutdown, Startup{}, ""},
		{vecKeepalivePayload, AgentKeepalive, Startup{}, MsgAck},
		{vecStartedPayload, AgentEvent, Startup{}, ""},
	}
	for _, c := range cases {
		got, err := ParseAgentControl([]byte(c.in))
		if err != nil || got.Kind != c.kind || got.Startup != c.st {
			t.Errorf("ParseAgentControl(%q) = %+v %v", c.in, got, err)
			continue
		}
		if reply := got.Reply("v4.14.7", false); string(reply) != c.ack {
			t.Errorf("Reply(%q) = %q, want %q", c.in, reply, c.ack)
		}
	}
	c, _ := ParseAgentControl([]byte(`#!-agent startup {"version":"v4.15.0"}`))
	if string(c.Reply("v4.14.7", true)) != MsgAck {
		t.Error("allow_higher_versions ignored")
	}
	req, err := ParseAgentControl([]byte("#!-req 1a ok {\"x\":1}"))
	if err != nil || req.Kind != AgentRequest || req.Counter != "1a" || string(req.Body) != `ok {"x":1}` || req.Reply("", false) != nil {
		t.Errorf("request = %+v %v", req, err)
	}
	for in, want := range map[string]error{
		"#!-req 1a":               ErrBadRequest,
		"#!-agent shutdown":       ErrInvalidKeepalive,
		"#!-agent shutdown  x":    ErrInvalidKeepalive,
		"#!-Linux - Wazuh v4.1.0": ErrInvalidKeepalive,
	} {
		if _, err := ParseAgentControl([]byte(in)); !errors.Is(err, want) {
			t.Errorf("ParseAgentControl(%q) = %v, want %v", in, err, want)
		}
	}
	// Invalid UTF-8 is replaced; text after a NUL is ignored.
	k, err := ParseAgentControl([]byte("#!-Linux |h\xff - Wazuh v4.14.7\nx merged.mg\n"))
	if err != nil || k.Keepalive.Uname != "Linux |h\uFFFD" {
		t.Errorf("utf8: %q %v", k.Keepalive.Uname, err)
	}
	s, err := ParseAgentControl([]byte("#!-agent shutdown \x00junk"))
	if err != nil || s.Kind != AgentShutdown {
		t.Errorf("NUL: %+v %v", s, err)
	}
}

func TestFormatControl(t *testing.T) {
	for got, want := range map[string]string{
		string(FormatStartup("v4.14.7")):                                             vecStartupPayload,
		string(FormatStartup("")):                                                    "#!-agent startup ",
		string(FormatControlError(ErrVersionTooHigh)):                                `#!-err {"message":"Agent version must be lower or equal to manager version"}`,
		string(FormatRequest("1a", []byte("ack"))):                                   "#!-req 1a ack",
		string(FormatExecd("restart-wazuh0 - - 1")):                                  "#!-execd restart-wazuh0 - - 1",
		string(AgentStartedEvent("NewAgent", "any")):                                 vecStartedPayload,
		string(FormatFileUpdate("d6e3ac3e75ca0319af3e7c262776f331", MergedFileName)): vecUpFilePayload,
		MsgAck:       "#!-agent ack ",
		MsgCloseFile: "#!-close file ",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if len(MsgAck) != 13 {
		t.Errorf("MsgAck is %d bytes", len(MsgAck))
	}
}

func TestParseManagerMessage(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ManagerMessage
	}{
		{MsgAck, ManagerMessage{Kind: ManagerAck}},
		{`#!-err {"message":"Couldn't retrieve version"}`, ManagerMessage{Kind: ManagerError, Message: ErrVersionMissing}},
		{vecUpFilePayload, ManagerMessage{Kind: ManagerFileUpdate, FileSum: "d6e3ac3e75ca0319af3e7c262776f331", FileName: "merged.mg"}},
		{MsgCloseFile, ManagerMessage{Kind: ManagerFileClose}},
		{"#!-execd cmd", ManagerMessage{Kind: ManagerExecd, Message: "cmd"}},
		{MsgForceReconnect, ManagerMessage{Kind: ManagerForceReconnect}},
		{"#!-req 1a agent getconfig client", ManagerMessage{Kind: ManagerRequest, Counter: "1a", Body: []byte("agent getconfig client")}},
		{"#!-syscheck scan", ManagerMessage{Kind: ManagerOther, Body: []byte("syscheck scan")}},
		{"#!-agent ack x", ManagerMessage{Kind: ManagerOther, Body: []byte("agent ack x")}},
		{"<agent_config>", ManagerMessage{Kind: ManagerData, Body: []byte("<agent_config>")}},
	} {
		if diff := cmp.Diff(c.want, ParseManagerMessage([]byte(c.in))); diff != "" {
			t.Errorf("%q (-want +got)\n%s", c.in, diff)
		}
	}
}

func TestMergedFileAndPush(t *testing.T) {
	conf := "<agent_config>\n\n  <!-- Shared agent configuration here -->\n\n</agent_config>\n"
	merged := MergedFile("default", []SharedFile{{Name: "agent.conf", Data: []byte(conf)}})
	sum := md5.Sum(merged)
	if len(merged) != 100 || hex.EncodeToString(sum[:]) != "ca35f9148a3273413eccb79f149f4757" {
		t.Fatalf("merged.mg = %d bytes, md5 %x", len(merged), sum)
	}
	group, files, err := SplitMergedFile(merged)
	if err != nil || group != "default" || len(files) != 1 || string(files[0].Data) != conf {
		t.Fatalf("SplitMergedFile = %q %v %v", group, files, err)
	}
	for _, bad := range []string{"", "default\n", "#g\n!x a\n", "#g\n!5 a\nabc", "#g\n!3a\nabc"} {
		if _, _, err := SplitMergedFile([]byte(bad)); err == nil {
			t.Errorf("SplitMergedFile(%q) accepted", bad)
		}
	}

	big := bytes.Repeat([]byte("0123456789"), 200) // 2000 bytes: chunks of 900, 900, 200
	msgs, err := FilePush(MergedFileName, big)
	if err != nil || len(msgs) != 5 || len(msgs[1]) != 900 || len(msgs[3]) != 200 || string(msgs[4]) != MsgCloseFile {
		t.Fatalf("FilePush: %d messages %v", len(msgs), err)
	}
	var r FileReceiver
	var done *ReceivedFile
	for i, m := range append([][]byte{[]byte(MsgAck), []byte("stray chunk")}, msgs...) {
		f, err := r.Handle(ParseManagerMessage(m))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if f != nil {
			done = f
		}
	}
	if done == nil || done.Name != MergedFileName || !bytes.Equal(done.Data, big) {
		t.Fatalf("received %+v", done)
	}
	if _, err := FilePush("x", []byte("a\x00b")); !errors.Is(err, ErrBinaryFile) {
		t.Fatalf("NUL content: %v", err)
	}
	// A wrong checksum and an unsafe name are refused; names are flattened.
	r.Handle(ParseManagerMessage(FormatFileUpdate("00000000000000000000000000000000", "a")))
	r.Handle(ParseManagerMessage([]byte("data")))
	if _, err := r.Handle(ParseManagerMessage([]byte(MsgCloseFile))); !errors.Is(err, ErrFileChecksum) {
		t.Fatalf("bad checksum: %v", err)
	}
	empty := md5.Sum(nil)
	r.Handle(ParseManagerMessage(FormatFileUpdate(hex.EncodeToString(empty[:]), "../etc/passwd")))
	if _, err := r.Handle(ParseManagerMessage([]byte(MsgCloseFile))); err == nil {
		t.Fatal("path traversal accepted")
	}
	r.Handle(ParseManagerMessage(FormatFileUpdate(hex.EncodeToString(empty[:]), ".dir/x")))
	f, err := r.Handle(ParseManagerMessage([]byte(MsgCloseFile)))
	if err != nil || f.Name != "-dir-x" {
		t.Fatalf("flattened name: %+v %v", f, err)
	}
}
