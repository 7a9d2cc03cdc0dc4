package agentproto

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
	"io"
	"sync"
)

// zlib layer (spec §4.4). Readers and writers are pooled: a level-9 writer
// holds about a megabyte of state and would otherwise dominate the cost of a
// keepalive.

type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser
	buf [MaxInflatedSize + 1]byte
}

type deflater struct {
	out bytes.Buffer
	zw  *zlib.Writer
}

var (
	inflaters = sync.Pool{New: func() any { return new(inflater) }}
	deflaters = sync.Pool{New: func() any {
		d := new(deflater)
		d.zw, _ = zlib.NewWriterLevel(&d.out, zlib.BestCompression)
		return d
	}}
)

// inflate decompresses one zlib stream, ignoring any bytes after its end, and
// refuses output above MaxInflatedSize. The result aliases f's buffer.
func (f *inflater) inflate(z []byte) ([]byte, error) {
	f.src.Reset(z)
	if f.zr == nil {
		zr, err := zlib.NewReader(&f.src)
		if err != nil {
			return nil, ErrInflate
		}
		f.zr = zr
	} else if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return nil, ErrInflate
	}
	n := 0
	for {
		if n == len(f.buf) {
			return nil, ErrInflatedTooLarge
		}
		m, err := f.zr.Read(f.buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, ErrInflate
		}
	}
	if n > MaxInflatedSize {
		return nil, ErrInflatedTooLarge
	}
	return f.buf[:n], nil
}

// storedMax is the size up to which a message goes out as one stored
// (uncompressed) deflate block. An ACK or a command would shrink by a few
// bytes at most, and readying a level-9 compressor (it clears half a
// megabyte of tables) cost a quarter of the manager's CPU per keepalive.
// zlib's uncompress, on the agent, reads stored blocks like any other.
const storedMax = 512

// deflate compresses b at level 9 into a fresh slice, or stores it when it
// is short.
func deflate(b []byte) []byte {
	if len(b) <= storedMax {
		return storedZlib(b)
	}
	d := deflaters.Get().(*deflater)
	defer deflaters.Put(d)
	d.out.Reset()
	d.zw.Reset(&d.out)
	_, _ = d.zw.Write(b) // writes to a bytes.Buffer cannot fail
	_ = d.zw.Close()
	return bytes.Clone(d.out.Bytes())
}

// storedZlib wraps b (at most 65,535 bytes) in a zlib stream of one final
// stored block: header, block length and its complement, the bytes, Adler-32.
func storedZlib(b []byte) []byte {
	out := make([]byte, 0, len(b)+11)
	n := uint16(len(b))
	out = append(out, 0x78, 0x01, // deflate, 32 KiB window, no dictionary; 0x7801 % 31 == 0
		0x01, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8)) // BFINAL=1, BTYPE=00 (stored)
	out = append(out, b...)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(b))
}
