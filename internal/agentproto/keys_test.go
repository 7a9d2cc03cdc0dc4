package agentproto

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

func TestParseKeyLine(t *testing.T) {
	for _, c := range []struct {
		line    string
		want    KeyEntry
		ok      bool
		removed bool
	}{
		{"001 NewAgent any " + vecRaw + "\n", KeyEntry{"001", "NewAgent", "any", vecRaw}, true, false},
		{"002 web01 10.0.0.8 abc\r\n", KeyEntry{"002", "web01", "10.0.0.8", "abc"}, true, false},
		{"003 net 10.0.0.0/24 key with spaces", KeyEntry{"003", "net", "10.0.0.0/24", "key with spaces"}, true, false},
		{"004 !old any " + vecRaw, KeyEntry{"004", "!old", "any", vecRaw}, true, true},
		{"005 #**#", KeyEntry{"005", "#**#", "", ""}, true, true},
		{"# comment", KeyEntry{}, false, false},
		{" 006 indented any k", KeyEntry{}, false, false},
		{"", KeyEntry{}, false, false},
	} {
		e, ok, err := ParseKeyLine(c.line)
		if err != nil || ok != c.ok || e != c.want || e.Removed() != c.removed {
			t.Errorf("ParseKeyLine(%q) = %+v %v %v", c.line, e, ok, err)
		}
	}
	for _, bad := range []string{"001", "001 name", "001 name any", "abc name any key", "001 name 1.2.3 key",
		"001  any key", "001 name any " + strings.Repeat("k", 128)} {
		if _, _, err := ParseKeyLine(bad); !errors.Is(err, ErrInvalidKeyLine) {
			t.Errorf("ParseKeyLine(%q) err = %v", bad, err)
		}
	}
}

func TestKeyEntryString(t *testing.T) {
	for _, line := range []string{"001 NewAgent any " + vecRaw, "004 !old any k", "005 #**#"} {
		e, _, err := ParseKeyLine(line)
		if err != nil || e.String() != line {
			t.Errorf("round trip %q -> %q (%v)", line, e.String(), err)
		}
	}
}

func TestReadKeys(t *testing.T) {
	file := "# header\n001 a1 any k1\n002 !gone any k2\n010 #x\n003 a3 10.0.0.3 k3\n"
	entries, maxID, err := ReadKeys(strings.NewReader(file))
	if err != nil || len(entries) != 4 || maxID != 10 {
		t.Fatalf("ReadKeys = %d entries, max %d, %v", len(entries), maxID, err)
	}
	if FormatAgentID(maxID+1) != "011" || FormatAgentID(1000) != "1000" {
		t.Errorf("FormatAgentID")
	}
	if _, _, err := ReadKeys(strings.NewReader("001 a1 any k1\nbroken\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken file err = %v", err)
	}
}

func TestGenerateRawKey(t *testing.T) {
	k, err := GenerateRawKey(bytes.NewReader(bytes.Repeat([]byte{0xab}, 32)))
	if err != nil || k != strings.Repeat("ab", 32) {
		t.Fatalf("GenerateRawKey = %q %v", k, err)
	}
	if _, err := GenerateRawKey(bytes.NewReader(nil)); err == nil {
		t.Fatal("short random source accepted")
	}
	k, err = GenerateRawKey(nil)
	if err != nil || len(k) != 64 || !ValidAgentName(k) {
		t.Fatalf("GenerateRawKey(nil) = %q %v", k, err)
	}
	e := KeyEntry{ID: "001", Name: vecName, IP: "any", Key: vecRaw}
	if _, err := e.Cipher(); err != nil {
		t.Fatal(err)
	}
}

func TestParseIPRange(t *testing.T) {
	for _, c := range []struct {
		in, norm string
		single   bool
	}{
		{"any", "any", false},
		{"10.0.0.8", "10.0.0.8", true},
		{"!10.0.0.8", "10.0.0.8", true},
		{"10.0.0.8/32", "10.0.0.8/32", true},
		{"10.0.0.0/24", "10.0.0.0/24", false},
		{"10.0.0.0/255.255.255.0", "10.0.0.0/255.255.255.0", false},
		{"0.0.0.0/0", "0.0.0.0/0", false},
		{"::ffff:10.1.2.3", "10.1.2.3", true},
		{"::FFFF:10.1.2.3/8", "10.1.2.3/8", false},
		{"2001:db8::1", "2001:0DB8:0000:0000:0000:0000:0000:0001", false},
		{"fe80::/64", "FE80:0000:0000:0000:0000:0000:0000:0000/64", false},
		{"2001:db8::/0", "2001:0DB8:0000:0000:0000:0000:0000:0000", false},
		{"::", "0000:0000:0000:0000:0000:0000:0000:0000", false},
		{"1:2:3:4:5:6:7:8/128", "0001:0002:0003:0004:0005:0006:0007:0008/128", false},
		{"::1/05", "0000:0000:0000:0000:0000:0000:0000:0001/5", false},
	} {
		r, err := ParseIPRange(c.in)
		if err != nil || r.String() != c.norm || r.SingleHost() != c.single {
			t.Errorf("ParseIPRange(%q) = %q single=%v %v", c.in, r.String(), r.SingleHost(), err)
		}
	}
	for _, bad := range []string{"", "src", "anything", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33",
		"1.2.3.4/05", "1.2.3.4/", "1.2.3.4/255.255.255.256", "::/64", "fe80::1%eth0", "1:2:3:4:5:6:1.2.3.4",
		"2001:db8::1/129", "12345::", "2001:db8::1/1000", " 1.2.3.4"} {
		if _, err := ParseIPRange(bad); !errors.Is(err, ErrInvalidIP) {
			t.Errorf("ParseIPRange(%q) accepted", bad)
		}
	}
}

func TestIPRangeContains(t *testing.T) {
	for _, c := range []struct {
		rng, src string
		want     bool
	}{
		{"any", "1.2.3.4", true},
		{"any", "2001:0DB8:0000:0000:0000:0000:0000:0001", true},
		{"10.0.0.8", "10.0.0.8", true},
		{"10.0.0.8", "10.0.0.9", false},
		{"10.0.0.0/24", "10.0.0.200", true},
		{"10.0.0.0/24", "10.0.1.1", false},
		{"10.0.0.5/24", "10.0.0.77", true},
		{"10.0.0.0/255.255.0.0", "10.0.200.1", true},
		{"2001:db8::/32", "2001:0DB8:FFFF:0000:0000:0000:0000:0001", true},
		{"2001:db8::/32", "2001:0DB9:0000:0000:0000:0000:0000:0001", false},
		{"10.0.0.0/8", "2001:0DB8:0000:0000:0000:0000:0000:0001", false},
		{"2001:db8::/32", "10.0.0.1", false},
		{"10.0.0.0/8", "not-an-ip", false},
	} {
		r, err := ParseIPRange(c.rng)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Contains(c.src); got != c.want {
			t.Errorf("%q.Contains(%q) = %v", c.rng, c.src, got)
		}
	}
	r, _ := ParseIPRange("10.0.0.0/24")
	if r.Host() != "10.0.0.0" || r.IsAny() {
		t.Errorf("Host = %q", r.Host())
	}
}

func TestSourceIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3":        "10.1.2.3",
		"::ffff:10.1.2.3": "10.1.2.3",
		"2001:db8::1":     "2001:0DB8:0000:0000:0000:0000:0000:0001",
		"fe80::abcd%eth0": "FE80:0000:0000:0000:0000:0000:0000:ABCD",
		"::1":             "0000:0000:0000:0000:0000:0000:0000:0001",
	} {
		if got := SourceIP(netip.MustParseAddr(in)); got != want {
			t.Errorf("SourceIP(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCounters(t *testing.T) {
	c := Counters{Global: 7, Local: 9996}
	if g, l := c.Next(); g != 7 || l != 9997 {
		t.Fatalf("Next = %d:%d", g, l)
	}
	if g, l := c.Next(); g != 8 || l != 1 {
		t.Fatalf("Next after 9997 = %d:%d", g, l)
	}
	if c.String() != "8:1:" {
		t.Errorf("String = %q", c.String())
	}
	p, err := ParseCounters("8:1:\n")
	if err != nil || p.Global != 8 || p.Local != 1 {
		t.Errorf("ParseCounters = %+v %v", p, err)
	}
	for _, bad := range []string{"", "8", "x:1:", "8:y:", "99999999999:1:"} {
		if _, err := ParseCounters(bad); err == nil {
			t.Errorf("ParseCounters(%q) accepted", bad)
		}
	}

	// Verification off (the default): everything is accepted and stored.
	var off Counters
	for _, p := range [][2]uint32{{5, 5}, {5, 5}, {1, 1}} {
		if err := off.Check(p[0], p[1]); err != nil {
			t.Fatalf("Check off: %v", err)
		}
	}
	if off.Global != 1 || off.Local != 1 {
		t.Errorf("stored %d:%d", off.Global, off.Local)
	}
	// Verification on.
	on := Counters{Verify: true}
	steps := []struct {
		g, l uint32
		want error
	}{{0, 1, nil}, {0, 1, ErrDuplicateCounter}, {0, 0, ErrDuplicateCounter}, {0, 2, nil}, {1, 1, nil},
		{0, 9000, ErrOldCounter}, {1, 2, nil}}
	for _, s := range steps {
		if err := on.Check(s.g, s.l); !errors.Is(err, s.want) {
			t.Errorf("Check(%d, %d) = %v, want %v", s.g, s.l, err, s.want)
		}
	}
	if on.Global != 1 || on.Local != 2 {
		t.Errorf("verified state %d:%d", on.Global, on.Local)
	}
}

func TestFraming(t *testing.T) {
	var stream []byte
	for _, p := range []string{"a", "", "bcd"} {
		stream, _ = AppendFrame(stream, []byte(p))
	}
	var got []string
	for {
		p, rest, ok, err := SplitFrame(stream)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, string(p))
		stream = rest
	}
	if strings.Join(got, "|") != "a||bcd" || len(stream) != 0 {
		t.Fatalf("frames = %q rest %d", got, len(stream))
	}
	if _, _, ok, err := SplitFrame([]byte{5, 0, 0, 0, 'x'}); ok || err != nil {
		t.Fatal("partial frame reported complete")
	}
	if _, _, _, err := SplitFrame([]byte{1, 0, 1, 0}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("65537 accepted: %v", err)
	}
	max := append([]byte{0, 0, 1, 0}, make([]byte, MaxFrameSize)...)
	if p, _, ok, err := SplitFrame(max); !ok || err != nil || len(p) != MaxFrameSize {
		t.Fatalf("65536 refused: %v", err)
	}
	if _, err := AppendFrame(nil, make([]byte, MaxFrameSize+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatal("AppendFrame accepted an oversize payload")
	}

	r := bytes.NewReader(append(append([]byte{3, 0, 0, 0}, "xyz"...), 2, 0, 0, 0, 'q'))
	p, err := ReadFrame(r, nil)
	if err != nil || string(p) != "xyz" {
		t.Fatalf("ReadFrame = %q %v", p, err)
	}
	if _, err := ReadFrame(r, p); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated frame: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(nil), nil); !errors.Is(err, io.EOF) {
		t.Fatalf("clean EOF: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge length: %v", err)
	}
}
