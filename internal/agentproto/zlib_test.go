package agentproto

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"
)

// Short messages are stored, longer ones compressed; both must be plain
// zlib streams that any inflater (the agent's uncompress) reads back.
func TestDeflateStoredAndCompressed(t *testing.T) {
	for _, n := range []int{0, 1, 13, storedMax, storedMax + 1, 4096} {
		in := bytes.Repeat([]byte("#!-agent ack "), n/13+1)[:n]
		z := deflate(in)
		stored := len(z) == len(in)+11 && z[2] == 0x01
		if stored != (n <= storedMax) {
			t.Errorf("%d bytes: stored=%v, want %v", n, stored, n <= storedMax)
		}
		zr, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: read back %q, %v", n, out, err)
		}
		var f inflater
		if out, err := f.inflate(z); err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: inflate %q, %v", n, out, err)
		}
	}
	// The exact bytes of a stored stream: header, block header, data, Adler-32.
	want := []byte{0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 'h', 'i', 0x01, 0x3b, 0x00, 0xd2}
	if got := storedZlib([]byte("hi")); !bytes.Equal(got, want) {
		t.Errorf("storedZlib(hi) = % x, want % x", got, want)
	}
}
