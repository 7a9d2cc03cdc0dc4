package agentproto

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Shared configuration (spec §5.4). A group's merged.mg is:
//
//	"#" <group> LF
//	for each file (etc/shared/ar.conf first, then the group's files by name):
//	    "!" <size in bytes> SP <relative name> LF  <size raw bytes>
//
// Its MD5 is the group's merged sum. The manager pushes it as separate secure
// messages: "#!-up file <md5> merged.mg\n", the content in chunks of at most
// 900 bytes (C strings, so no NUL), then "#!-close file␠".
const (
	// FileChunkSize is the largest chunk of a shared-file push.
	FileChunkSize = 900
	// MergedFileName is the name of the merged shared file.
	MergedFileName = mergedFileName
	// MsgCloseFile ends a shared-file push: "#!-close file␠".
	MsgCloseFile = ControlHeader + fileCloseBody
	// maxReceivedFile bounds what FileReceiver accumulates.
	maxReceivedFile = 64 << 20
)

// ErrFileChecksum is a received file whose MD5 differs from the announced one.
var ErrFileChecksum = errors.New("agentproto: received file checksum mismatch")

// SharedFile is one file of a group's shared directory.
type SharedFile struct {
	Name string // path relative to the group directory
	Data []byte
}

// MergedFile builds a group's merged.mg from files, in the order given.
func MergedFile(group string, files []SharedFile) []byte {
	var b bytes.Buffer
	b.WriteString("#" + group + "\n")
	for _, f := range files {
		b.WriteString("!" + strconv.Itoa(len(f.Data)) + " " + f.Name + "\n")
		b.Write(f.Data)
	}
	return b.Bytes()
}

// SplitMergedFile unpacks a merged.mg, the agent's side of MergedFile.
func SplitMergedFile(data []byte) (group string, files []SharedFile, err error) {
	line, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || len(line) == 0 || line[0] != '#' {
		return "", nil, errors.New("agentproto: merged file lacks its #group line")
	}
	group = string(line[1:])
	for len(rest) > 0 {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		sizeText, name, hasName := strings.Cut(string(line), " ")
		if !ok || !hasName || !strings.HasPrefix(sizeText, "!") {
			return "", nil, errors.New("agentproto: merged file has a malformed file header")
		}
		n, err := strconv.Atoi(sizeText[1:])
		if err != nil || n < 0 || n > len(rest) {
			return "", nil, fmt.Errorf("agentproto: merged file entry %q has a bad size", name)
		}
		files = append(files, SharedFile{Name: name, Data: rest[:n:n]})
		rest = rest[n:]
	}
	return group, files, nil
}

// FormatFileUpdate returns "#!-up file <md5> <name>\n".
func FormatFileUpdate(sum, name string) []byte {
	return []byte(ControlHeader + fileUpdateBody + sum + " " + name + "\n")
}

// FilePush returns the payloads that send content as name, in order: the
// announcement, the chunks, the close message. Content with NUL bytes is
// refused (ErrBinaryFile), as the reference refuses binary shared files.
func FilePush(name string, content []byte) ([][]byte, error) {
	if bytes.IndexByte(content, 0) >= 0 {
		return nil, ErrBinaryFile
	}
	sum := md5.Sum(content)
	out := [][]byte{FormatFileUpdate(hex.EncodeToString(sum[:]), name)}
	for len(content) > 0 {
		n := min(len(content), FileChunkSize)
		out = append(out, content[:n:n])
		content = content[n:]
	}
	return append(out, []byte(MsgCloseFile)), nil
}

// ReceivedFile is a completed, verified shared-file transfer.
type ReceivedFile struct {
	Name string // as the agent stores it: '/' and a leading '.' become '-'
	Sum  string
	Data []byte
}

// FileReceiver reassembles shared-file pushes on the agent side. A new
// announcement restarts the transfer; chunks are appended while a transfer is
// open; the close message verifies the MD5. Other messages are ignored.
type FileReceiver struct {
	open bool
	name string
	sum  string
	data bytes.Buffer
}

// Handle feeds one manager message. It returns the file when a transfer
// completes, or an error when the checksum, the name or the size is wrong.
func (r *FileReceiver) Handle(m ManagerMessage) (*ReceivedFile, error) {
	switch m.Kind {
	case ManagerFileUpdate:
		r.open, r.sum, r.name = true, m.FileSum, m.FileName
		r.data.Reset()
	case ManagerData:
		if !r.open {
			return nil, nil
		}
		if r.data.Len()+len(m.Body) > maxReceivedFile {
			r.open = false
			return nil, fmt.Errorf("agentproto: shared file %q exceeds %d bytes", r.name, maxReceivedFile)
		}
		r.data.Write(m.Body)
	case ManagerFileClose:
		if !r.open {
			return nil, nil
		}
		r.open = false
		if strings.Contains(r.name, "..") {
			return nil, fmt.Errorf("agentproto: refused shared file name %q", r.name)
		}
		sum := md5.Sum(r.data.Bytes())
		if hex.EncodeToString(sum[:]) != r.sum {
			return nil, fmt.Errorf("%w: %q", ErrFileChecksum, r.name)
		}
		name := strings.ReplaceAll(r.name, "/", "-")
		if strings.HasPrefix(name, ".") {
			name = "-" + name[1:]
		}
		return &ReceivedFile{Name: name, Sum: r.sum, Data: bytes.Clone(r.data.Bytes())}, nil
	}
	return nil, nil
}
