package agentproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// TCP framing on port 1514 (spec §4.1); UDP carries one payload per datagram
// and has no length prefix:
//
//	offset 0  uint32 little-endian  payload length n, 0 <= n <= 65536
//	offset 4  n bytes               payload (see ParseEnvelope)
//
// A length above 65536 makes the manager log "Too big message size" and close
// the connection; the agent treats it as a corrupt payload and reconnects.
const (
	// FrameHeaderSize is the length prefix of a TCP frame.
	FrameHeaderSize = 4
	// MaxFrameSize is the largest accepted payload length (OS_MAXSTR).
	MaxFrameSize = 65536
)

// AppendFrame appends the length prefix and the payload to dst.
func AppendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) > MaxFrameSize {
		return dst, ErrFrameTooLarge
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...), nil
}

// SplitFrame takes one frame off the front of a stream buffer. It returns the
// payload and the remaining bytes; ok is false when data does not yet hold a
// whole frame. A length above MaxFrameSize is an error at once, before the
// payload arrives.
func SplitFrame(data []byte) (payload, rest []byte, ok bool, err error) {
	if len(data) < FrameHeaderSize {
		return nil, data, false, nil
	}
	n := binary.LittleEndian.Uint32(data)
	if n > MaxFrameSize {
		return nil, data, false, fmt.Errorf("%w: %d", ErrFrameTooLarge, n)
	}
	end := FrameHeaderSize + int(n)
	if len(data) < end {
		return nil, data, false, nil
	}
	return data[FrameHeaderSize:end:end], data[end:], true, nil
}

// ReadFrame reads one frame from r into buf (grown when too small) and returns
// the payload. It returns io.EOF only when r ends cleanly before a frame, and
// io.ErrUnexpectedEOF when it ends inside one.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [FrameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d", ErrFrameTooLarge, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
