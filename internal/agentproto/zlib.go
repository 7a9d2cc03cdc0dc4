package agentproto

import (
	"bytes"
	"compress/zlib"
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

// deflate compresses b at level 9 into a fresh slice.
func deflate(b []byte) []byte {
	d := deflaters.Get().(*deflater)
	defer deflaters.Put(d)
	d.out.Reset()
	d.zw.Reset(&d.out)
	_, _ = d.zw.Write(b) // writes to a bytes.Buffer cannot fail
	_ = d.zw.Close()
	return bytes.Clone(d.out.Bytes())
}
