package file

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// progressEvery is how many records pass between progress reports.
const progressEvery = 10000

// Fetch reads the whole file; any error in it fails the fetch.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	recs, sum, err := s.read(ctx, progress)
	if err != nil {
		return nil, fmt.Errorf("file source %s: %w", s.name, err)
	}
	readAt := s.now()
	req := fmt.Sprintf("read %s (sha256 %x)", s.path, sum[:6])
	for i := range recs {
		recs[i].Source, recs[i].ReadAt, recs[i].Request = s.name, readAt, req
	}
	if progress != nil {
		progress(len(recs), len(recs))
	}
	return recs, nil
}

func (s *Source) read(ctx context.Context, progress coverage.Progress) ([]coverage.Record, []byte, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, s.openError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, s.openError(err)
	}
	if st.IsDir() {
		return nil, nil, fmt.Errorf("%s is a folder; path: must name the export file", s.path)
	}
	if st.Size() > s.maxBytes {
		return nil, nil, fmt.Errorf("%s is %d bytes, more than max_bytes (%d); raise max_bytes if this export really is that large", s.path, st.Size(), s.maxBytes)
	}
	h := sha256.New()
	in := &limitReader{r: io.TeeReader(f, h), max: s.maxBytes, path: s.path}
	if progress == nil {
		progress = func(int, int) {}
	}
	var recs []coverage.Record
	switch s.format {
	case "csv":
		recs, err = s.readCSV(ctx, in, progress)
	default:
		reopen := func() (io.Reader, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			h.Reset()
			return &limitReader{r: io.TeeReader(f, h), max: s.maxBytes, path: s.path}, nil
		}
		recs, err = s.readJSON(ctx, in, reopen, progress)
	}
	if err != nil {
		return nil, nil, err
	}
	return recs, h.Sum(nil), nil
}

func (s *Source) openError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist; check path: (a relative path is read from the config file's folder)", s.path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot read %s: permission denied; make it readable by the user running muster", s.path)
	}
	return fmt.Errorf("cannot read %s: %v", s.path, err)
}

// limitReader fails once more than max bytes came through: the file may
// grow while it is read.
type limitReader struct {
	r    io.Reader
	n    int64
	max  int64
	path string
}

var errTooLarge = errors.New("file larger than max_bytes")

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, fmt.Errorf("%s grew past max_bytes (%d) while it was read: %w", l.path, l.max, errTooLarge)
	}
	return n, err
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// sniff strips a UTF-8 byte order mark and refuses what is plainly not the
// expected format. It returns the BOM's length.
func sniff(br *bufio.Reader, path, format string) (int, error) {
	head, _ := br.Peek(512)
	skip := 0
	if bytes.HasPrefix(head, bom) {
		skip = len(bom)
		head = head[skip:]
		if _, err := br.Discard(skip); err != nil {
			return 0, err
		}
	}
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return skip, fmt.Errorf("%s is empty; export the inventory again", path)
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) > 0 && t[0] == '<' {
		what := "HTML"
		if bytes.HasPrefix(bytes.ToLower(t), []byte("<?xml")) && !bytes.Contains(bytes.ToLower(t), []byte("<html")) {
			what = "XML"
		}
		return skip, fmt.Errorf("%s: this looks like %s, not CSV/JSON (it starts with %q); a login or error page saved instead of the export?",
			path, what, firstLine(t))
	}
	if format == "csv" && len(t) > 0 && t[0] == '{' {
		return skip, fmt.Errorf("%s: this looks like JSON, not CSV (it starts with %q); set format: json", path, firstLine(t))
	}
	if format == "json" && len(t) > 0 && t[0] != '{' && t[0] != '[' {
		return skip, fmt.Errorf("%s: this is not JSON (it starts with %q, a JSON export starts with [ or {); for a CSV file set format: csv", path, firstLine(t))
	}
	return skip, nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimSpace(string(line))
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}
