package agentproto

import (
	"bytes"
	"errors"
	"testing"
)

// The stream-level decoders: frames, enrollment lines, client.keys files,
// manager messages with shared files, merged.mg and key IP ranges.

func FuzzSplitFrame(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 'a', 'b', 'c', 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, rest, ok, err := SplitFrame(data)
		rp, rerr := ReadFrame(bytes.NewReader(data), nil)
		switch {
		case err != nil:
			if !errors.Is(err, ErrFrameTooLarge) || !errors.Is(rerr, ErrFrameTooLarge) {
				t.Fatalf("split %v, read %v", err, rerr)
			}
		case !ok:
			if rerr == nil || !bytes.Equal(rest, data) {
				t.Fatalf("incomplete frame: read %v, rest %d of %d", rerr, len(rest), len(data))
			}
		default:
			if len(p) > MaxFrameSize || len(p)+len(rest)+FrameHeaderSize != len(data) || rerr != nil || !bytes.Equal(p, rp) {
				t.Fatalf("payload %d rest %d of %d; read %d, %v", len(p), len(rest), len(data), len(rp), rerr)
			}
		}
	})
}

func FuzzReadEnrollRequest(f *testing.F) {
	f.Add([]byte("OSSEC A:'h1'\n"))
	f.Add([]byte("OSSEC A:'h1'"))
	f.Add(bytes.Repeat([]byte("A"), 70000))
	f.Fuzz(func(t *testing.T, data []byte) {
		line, err := ReadEnrollRequest(bytes.NewReader(data))
		if err == nil && len(line) > len(data) {
			t.Fatalf("a %d-byte line from %d bytes", len(line), len(data))
		}
		reply, err := ReadEnrollReply(bytes.NewReader(data))
		if err == nil && len(reply) > len(data) {
			t.Fatalf("a %d-byte reply from %d bytes", len(reply), len(data))
		}
	})
}

func FuzzReadKeys(f *testing.F) {
	f.Add([]byte("001 web01 any 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n!002 gone any x\n"))
	f.Add([]byte("001 a 10.0.0.0/8 k\n\n# comment\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, maxID, err := ReadKeys(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.Removed() && (e.ID == "" || e.Name == "" || e.Key == "") { // removed ones come as found
				t.Fatalf("incomplete entry %q", e.String())
			}
		}
		if maxID < 0 {
			t.Fatalf("max id %d", maxID)
		}
	})
}

func FuzzManagerMessages(f *testing.F) {
	f.Add([]byte("#!-up file 0cc175b9c0f1b6a831c399e269772661 merged.mg\n"), []byte("a"), []byte("#!-close file "))
	f.Add([]byte("#!-req 1a agent getconfig client"), []byte("#!-execd restart-wazuh0"), []byte("#!-err {\"message\":\"x\"}"))
	f.Add([]byte("#!-up file zz ../../etc/passwd\n"), []byte("root"), []byte("#!-close file "))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		var r FileReceiver
		for _, p := range [][]byte{a, b, c} {
			m := ParseManagerMessage(p)
			file, err := r.Handle(m)
			if err == nil && file != nil && (bytes.Contains([]byte(file.Name), []byte("..")) || file.Name == "") {
				t.Fatalf("accepted file name %q", file.Name)
			}
		}
	})
}

func FuzzSplitMergedFile(f *testing.F) {
	f.Add(MergedFile("default", []SharedFile{{Name: "agent.conf", Data: []byte("<agent_config/>\n")}}))
	f.Add([]byte("#g\n!5 a\nabc"))
	f.Add([]byte("#g\n!-1 a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		group, files, err := SplitMergedFile(data)
		if err != nil {
			return
		}
		again, files2, err := SplitMergedFile(MergedFile(group, files))
		if err != nil || again != group || len(files2) != len(files) {
			t.Fatalf("round trip: %q %d files, %v (was %q, %d)", again, len(files2), err, group, len(files))
		}
	})
}

func FuzzParseIPRange(f *testing.F) {
	for _, s := range []string{"any", "10.0.0.1", "10.0.0.0/8", "2001:db8::/64", "0.0.0.0/0", "1.2.3.4/33", ""} {
		f.Add(s, "10.1.2.3")
	}
	f.Fuzz(func(t *testing.T, key, src string) {
		r, err := ParseIPRange(key)
		if err != nil {
			return
		}
		_ = r.Contains(src)
		if r.SingleHost() && r.Host() == "" {
			t.Fatalf("single host %q without a host", key)
		}
		if _, err := ParseIPRange(r.String()); err != nil {
			t.Fatalf("%q parses to %q, which does not parse: %v", key, r.String(), err)
		}
	})
}
