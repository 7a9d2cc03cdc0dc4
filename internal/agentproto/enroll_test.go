package agentproto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

var mgr = EnrollOptions{ManagerVersion: "v4.14.7"}

func TestParseEnrollRequest(t *testing.T) {
	cases := []struct {
		name string
		line string
		opt  EnrollOptions
		want EnrollRequest
	}{
		{"name only", "OSSEC A:'myhost'\n", mgr, EnrollRequest{Name: "myhost"}},
		{"qa version", "OSSEC A:'myhost' V:'v4.14.7'\n", mgr, EnrollRequest{Name: "myhost", Version: "v4.14.7"}},
		{"qa ip", "OSSEC A:'myhost' V:'v4.14.7' IP:'192.168.0.10'\n", mgr,
			EnrollRequest{Name: "myhost", Version: "v4.14.7", IP: "192.168.0.10"}},
		{"qa cidr", "OSSEC A:'myhost' V:'v4.14.7' IP:'192.168.0.10/24'\n", mgr,
			EnrollRequest{Name: "myhost", Version: "v4.14.7", IP: "192.168.0.10/24"}},
		{"qa groups", "OSSEC A:'myhost' V:'v4.14.7' G:'group_1,group_2'\n", mgr,
			EnrollRequest{Name: "myhost", Version: "v4.14.7", Groups: []string{"group_1", "group_2"}}},
		{"qa full", "OSSEC PASS: TopSecret OSSEC A:'myhost' V:'v4.14.7' G:'default' IP:'src' K:'a0ac027c5bab176ad9a448b32dfa929679a28e1e'\n",
			EnrollOptions{Password: "TopSecret", ManagerVersion: "v4.14.7"},
			EnrollRequest{Password: "TopSecret", Name: "myhost", Version: "v4.14.7", Groups: []string{"default"},
				IP: "src", KeyHash: "a0ac027c5bab176ad9a448b32dfa929679a28e1e"}},
		{"password with spaces", "OSSEC PASS: a b c OSSEC A:'h1'\n", EnrollOptions{Password: "a b c"},
			EnrollRequest{Password: "a b c", Name: "h1"}},
		{"patch ignored", "OSSEC A:'h1' V:'v4.14.99'\n", mgr, EnrollRequest{Name: "h1", Version: "v4.14.99"}},
		{"higher allowed", "OSSEC A:'h1' V:'v5.0.0'\n", EnrollOptions{ManagerVersion: "v4.14.7", AllowHigherVersions: true},
			EnrollRequest{Name: "h1", Version: "v5.0.0"}},
		{"no manager version", "OSSEC A:'h1' V:'v9.9.9'\n", EnrollOptions{}, EnrollRequest{Name: "h1", Version: "v9.9.9"}},
		{"duplicate groups", "OSSEC A:'h1' G:'a,b,a,c,b'\n", mgr, EnrollRequest{Name: "h1", Groups: []string{"a", "b", "c"}}},
		{"out of order ignored", "OSSEC A:'h1' IP:'10.0.0.1' V:'v9.0.0' G:'x'\n", mgr, EnrollRequest{Name: "h1", IP: "10.0.0.1"}},
		{"trailing text ignored", "OSSEC A:'h1' K:'abc' whatever\n", mgr, EnrollRequest{Name: "h1", KeyHash: "abc"}},
		{"src prefix", "OSSEC A:'h1' IP:'srcfoo'\n", mgr, EnrollRequest{Name: "h1", IP: "src"}},
		{"ip any", "OSSEC A:'h1' IP:'any'\n", mgr, EnrollRequest{Name: "h1", IP: "any"}},
		{"ipv6 expanded", "OSSEC A:'h1' IP:'2001:db8::1'\n", mgr,
			EnrollRequest{Name: "h1", IP: "2001:0DB8:0000:0000:0000:0000:0000:0001"}},
		{"mapped ipv4", "OSSEC A:'h1' IP:'::ffff:10.1.2.3'\n", mgr, EnrollRequest{Name: "h1", IP: "10.1.2.3"}},
		{"empty version", "OSSEC A:'h1' V:'' G:'g'\n", mgr, EnrollRequest{Name: "h1", Groups: []string{"g"}}},
		{"stops at NUL", "OSSEC A:'h1'\x00 V:'v9.0.0'\n", mgr, EnrollRequest{Name: "h1"}},
		{"no newline needed", "OSSEC A:'h1'", mgr, EnrollRequest{Name: "h1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseEnrollRequest([]byte(c.line), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseEnrollRequestRefusals(t *testing.T) {
	long := strings.Repeat("g", 256)
	cases := []struct {
		name string
		line string
		opt  EnrollOptions
		want string
	}{
		{"missing password", "OSSEC A:'h1'\n", EnrollOptions{Password: "pw"}, ReasonInvalidPassword},
		{"wrong password", "OSSEC PASS: px OSSEC A:'h1'\n", EnrollOptions{Password: "pw"}, ReasonInvalidPassword},
		{"password without space", "OSSEC PASS: pwOSSEC A:'h1'\n", EnrollOptions{Password: "pw"}, ReasonInvalidPassword},
		{"password only", "OSSEC PASS: pw", EnrollOptions{Password: "pw"}, ReasonInvalidPassword},
		{"unexpected password", "OSSEC PASS: pw OSSEC A:'h1'\n", mgr, ReasonInvalidRequest},
		{"garbage", "HELLO\n", mgr, ReasonInvalidRequest},
		{"unterminated name", "OSSEC A:'h1\n", mgr, ReasonInvalidRequest},
		{"bad name chars", "OSSEC A:'bad name'\n", mgr, "ERROR: Invalid agent name: bad name"},
		{"short name", "OSSEC A:'a'\n", mgr, "ERROR: Invalid agent name: a"},
		{"dot name", "OSSEC A:'.hidden'\n", mgr, "ERROR: Invalid agent name: .hidden"},
		{"long name", "OSSEC A:'" + strings.Repeat("n", 129) + "'\n", mgr, "ERROR: Invalid agent name: " + strings.Repeat("n", 129)},
		{"unterminated version", "OSSEC A:'h1' V:'v4.5.0\n", mgr, ReasonUnterminatedVersion},
		{"version too long", "OSSEC A:'h1' V:'" + strings.Repeat("9", 2049) + "'\n", mgr, ReasonUnterminatedVersion},
		{"higher minor", "OSSEC A:'h1' V:'v4.15.0'\n", mgr, ReasonIncompatibleVersion},
		{"higher major", "OSSEC A:'h1' V:'v5.0.0' G:'!!'\n", mgr, ReasonIncompatibleVersion},
		{"unterminated group", "OSSEC A:'agent3' G:'Group1,Group2\n", mgr, ReasonUnterminatedGroup},
		{"empty group", "OSSEC A:'h1' G:''\n", mgr, ReasonEmptyGroup},
		{"group too large", "OSSEC A:'h1' G:'" + long + "'\n", mgr, "ERROR: Invalid group name: " + long[:255] + "... group is too large"},
		{"member too large", "OSSEC A:'h1' G:'a," + long + "'\n", mgr, "ERROR: Invalid group name: " + long[:255] + "... group is too large"},
		{"group spaces", "OSSEC A:'h1' G:'a,b c'\n", mgr, "ERROR: Invalid group name: a,b c... white spaces are not allowed"},
		{"double comma", "OSSEC A:'h1' G:'a,,b'\n", mgr, "ERROR: Invalid group name: a,,b... consecutive ',' are not allowed"},
		{"only comma", "OSSEC A:'h1' G:','\n", mgr, `ERROR: Invalid group name: ,... characters '\/:*?"<>|,' are prohibited`},
		{"leading comma", "OSSEC A:'h1' G:',a'\n", mgr, "ERROR: Invalid group name: ,a... cannot start or end with ','"},
		{"bad group char", "OSSEC A:'h1' G:'a/b'\n", mgr, `ERROR: Invalid group name: a/b... characters '\/:*?"<>|,' are prohibited`},
		{"unterminated ip", "OSSEC A:'agent3' G:'Group1,Group2' IP:'192.0.0.3 K:'ABC123'\n", mgr, ReasonUnterminatedIP},
		{"invalid ip", "OSSEC A:'h1' IP:'300.1.1.1'\n", mgr, "ERROR: Invalid IP: 300.1.1.1"},
		{"empty ip", "OSSEC A:'h1' IP:''\n", mgr, "ERROR: Invalid IP: "},
		{"unterminated key", "OSSEC A:'agent3' G:'Group1,Group2' IP:'192.0.0.3' K:'ABC123\n", mgr, ReasonUnterminatedKey},
		{"key too long", "OSSEC A:'h1' K:'" + strings.Repeat("a", 41) + "'\n", mgr, ReasonUnterminatedKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEnrollRequest([]byte(c.line), c.opt)
			var ee *EnrollError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want an *EnrollError", err)
			}
			if ee.Reason != c.want {
				t.Errorf("reason = %q\nwant     %q", ee.Reason, c.want)
			}
			if string(ee.Reply()) != c.want+". Unable to add agent" {
				t.Errorf("reply = %q", ee.Reply())
			}
		})
	}
}

func TestEnrollRequestFormatRoundTrip(t *testing.T) {
	req := EnrollRequest{Password: "TopSecret", Name: "myhost", Version: "v4.14.7", Groups: []string{"default", "web"},
		IP: "src", KeyHash: "a0ac027c5bab176ad9a448b32dfa929679a28e1e"}
	line := req.Format()
	want := "OSSEC PASS: TopSecret OSSEC A:'myhost' V:'v4.14.7' G:'default,web' IP:'src' K:'a0ac027c5bab176ad9a448b32dfa929679a28e1e'\n"
	if string(line) != want {
		t.Fatalf("Format = %q", line)
	}
	got, err := ParseEnrollRequest(line, EnrollOptions{Password: "TopSecret", ManagerVersion: "v4.14.7"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(req, got); diff != "" {
		t.Errorf("round trip (-want +got)\n%s", diff)
	}
}

func TestRegistrationIP(t *testing.T) {
	for _, c := range []struct {
		ip     string
		useSrc bool
		want   string
	}{
		{"", false, "any"}, {"", true, "10.9.9.9"}, {"src", false, "10.9.9.9"}, {"src", true, "10.9.9.9"},
		{"1.2.3.4", false, "1.2.3.4"}, {"1.2.3.0/24", true, "1.2.3.0/24"},
	} {
		if got := (EnrollRequest{IP: c.ip}).RegistrationIP("10.9.9.9", c.useSrc); got != c.want {
			t.Errorf("RegistrationIP(%q, %v) = %q, want %q", c.ip, c.useSrc, got, c.want)
		}
	}
}

// §9.6: the enrollment exchange, success then a refused re-enrollment.
func TestVectorEnrollmentExchange(t *testing.T) {
	req, err := ParseEnrollRequest([]byte("OSSEC A:'NewAgent' V:'v4.14.7'\n"), mgr)
	if err != nil || req.Name != "NewAgent" || req.RegistrationIP("192.0.2.1", false) != "any" {
		t.Fatalf("request: %+v %v", req, err)
	}
	entry := KeyEntry{ID: FormatAgentID(1), Name: req.Name, IP: AnyIP, Key: vecRaw}
	reply := FormatEnrollSuccess(entry)
	if string(reply) != "OSSEC K:'001 NewAgent any 340d563d8426711b2c53e150b3b12aee15588135a4171d5cb3d683f4b04eecc3'" {
		t.Fatalf("reply = %q", reply)
	}
	got, err := ParseEnrollReply(reply)
	if err != nil || got != entry {
		t.Fatalf("agent parse: %+v %v", got, err)
	}
	again, err := ParseEnrollRequest([]byte("OSSEC A:'NewAgent' V:'v4.14.7' K:'a0ac027c5bab176ad9a448b32dfa929679a28e1e'\n"), mgr)
	if err != nil || again.KeyHash != entry.KeyHash() {
		t.Fatalf("re-enrollment hash %q, want %q (%v)", again.KeyHash, entry.KeyHash(), err)
	}
	refusal := RefuseDuplicateName("NewAgent")
	if string(refusal.Reply()) != "ERROR: Duplicate agent name: NewAgent. Unable to add agent" {
		t.Fatalf("refusal = %q", refusal.Reply())
	}
	_, err = ParseEnrollReply(refusal.Reply())
	if !errors.Is(err, RefuseDuplicateName("NewAgent")) {
		t.Fatalf("agent parse of refusal = %v", err)
	}
}

func TestParseEnrollReplyInvalid(t *testing.T) {
	for _, in := range []string{
		"", "hello", "OSSEC K:'001 NewAgent any key", "OSSEC K:'1'", "OSSEC K:'001 NewAgent any'",
		"OSSEC K:'123456789 NewAgent any 0123abcd'", "OSSEC K:'0x1 NewAgent any 0123abcd'",
		"OSSEC K:'001 bad/name any 0123abcd'", "OSSEC K:'001 NewAgent 999.1.1.1 0123abcd'",
		"OSSEC K:'001 NewAgent any bad key'", "OSSEC K:' NewAgent any 0123abcd'",
	} {
		if _, err := ParseEnrollReply([]byte(in)); !errors.Is(err, ErrUnexpectedReply) {
			t.Errorf("ParseEnrollReply(%q) = %v", in, err)
		}
	}
}

func TestRefusalStrings(t *testing.T) {
	for got, want := range map[*EnrollError]string{
		RefuseInvalidName("x"):       "ERROR: Invalid agent name: x",
		RefuseInvalidIP("x"):         "ERROR: Invalid IP: x",
		RefuseInvalidGroupName("x"):  "ERROR: Invalid group name: x",
		RefuseUnknownGroup("x"):      "ERROR: Invalid group: x",
		RefuseDuplicateIP("1.2.3.4"): "ERROR: Duplicate IP: 1.2.3.4",
		RefuseInternal("x"):          "ERROR: Internal manager error adding agent: x",
		RefuseAgentLimit(10):         "ERROR: Agent limit (10) reached",
	} {
		if got.Reason != want {
			t.Errorf("%q != %q", got.Reason, want)
		}
	}
}

func TestValidateGroups(t *testing.T) {
	exists := func(g string) bool { return g != "missing" }
	many := make([]string, 129)
	for i := range many {
		many[i] = "g" + FormatAgentID(i)
	}
	for _, c := range []struct {
		groups []string
		want   string
	}{
		{[]string{"default", "web-1", "a.b_c"}, ""},
		{[]string{"a:b"}, "ERROR: Invalid group name: a:b"},
		{[]string{".."}, "ERROR: Invalid group name: .."},
		{[]string{"."}, "ERROR: Invalid group name: ."},
		{[]string{"ok", "missing"}, "ERROR: Invalid group: missing"},
		{many[:128], ""},
		{many, ReasonMaxGroups},
	} {
		err := ValidateGroups(c.groups, exists)
		got := ""
		if err != nil {
			got = err.Reason
		}
		if got != c.want {
			t.Errorf("ValidateGroups(%d groups) = %q, want %q", len(c.groups), got, c.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		patch bool
		want  int
	}{
		{"v4.14.7", "v4.14.7", false, 0}, {"v4.14.7", "v4.14.9", false, 0}, {"v4.14.7", "v4.14.9", true, -1},
		{"v4.14.7", "v4.15.0", false, -1}, {"v4.14.7", "v5.0.0", false, -1}, {"v4.14.7", "v4.2.0", false, 1},
		{"v4.14.7", "4.14.7", false, 0}, {"v4.14.7", "", false, 1}, {"Wazuh v4.14.7", "v4.14.7", false, -1}, // only "Wazuh v4." is read
		{"v4..14", "v4.14", false, 0},
	} {
		if got := CompareVersions(c.a, c.b, c.patch); got != c.want {
			t.Errorf("CompareVersions(%q, %q, %v) = %d, want %d", c.a, c.b, c.patch, got, c.want)
		}
	}
}

func TestReadEnrollRequest(t *testing.T) {
	line := "OSSEC A:'h1' V:'v4.14.7'"
	got, err := ReadEnrollRequest(iotest.OneByteReader(strings.NewReader(line + "\nextra")))
	if err != nil || string(got) != line {
		t.Fatalf("got %q %v", got, err)
	}
	long := strings.Repeat("a", 20000) + "\n"
	if got, err := ReadEnrollRequest(strings.NewReader(long)); err != nil || len(got) != 20000 {
		t.Fatalf("long line: %d %v", len(got), err)
	}
	if _, err := ReadEnrollRequest(strings.NewReader(line)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("no newline: %v", err)
	}
	huge := bytes.Repeat([]byte("a"), MaxEnrollRequestSize+10)
	if _, err := ReadEnrollRequest(bytes.NewReader(huge)); !errors.Is(err, ErrRequestTooLong) {
		t.Fatalf("oversize: %v", err)
	}
	if got, err := ReadEnrollRequest(bytes.NewReader(append(huge[:MaxEnrollRequestSize-1:MaxEnrollRequestSize-1], '\n'))); err != nil ||
		len(got) != MaxEnrollRequestSize-1 {
		t.Fatalf("max size: %d %v", len(got), err)
	}
	r, err := ReadEnrollReply(strings.NewReader("OSSEC K:'001 a1 any k1'"))
	if err != nil || string(r) != "OSSEC K:'001 a1 any k1'" {
		t.Fatalf("ReadEnrollReply = %q %v", r, err)
	}
}

func TestAgentNames(t *testing.T) {
	if got := SanitizeAgentName("my host_01.example.com!"); got != "myhost_01.example.com" {
		t.Errorf("SanitizeAgentName = %q", got)
	}
	for name, want := range map[string]bool{"ab": true, "a": false, "a-b.c_d": true, ".ab": false, "a b": false,
		strings.Repeat("x", 128): true, strings.Repeat("x", 129): false} {
		if ValidAgentName(name) != want {
			t.Errorf("ValidAgentName(%q) != %v", name, want)
		}
	}
}
