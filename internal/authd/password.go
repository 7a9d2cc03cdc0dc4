package authd

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// maxPasswordLine is the longest authd.pass line read (4095 characters).
const maxPasswordLine = 4095

// LoadPassword applies authd.pass semantics for use_password: the first
// line of path, without its newline, when it has more than 2 characters.
// An empty file is an error, as it is for authd, and so is a shorter line
// (authd would pick a random password and log it). With no file, a random
// 32-hex password is made and written to path (mode 0600), so the operator
// can hand it to agents; it is never logged.
func LoadPassword(path string, log *slog.Logger) (string, error) {
	f, err := os.Open(path)
	switch {
	case err == nil:
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", err
		}
		if st.Size() <= 1 {
			return "", fmt.Errorf("authd: %s is empty", path)
		}
		r := bufio.NewReaderSize(f, maxPasswordLine+1)
		line, _ := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if len(line) > maxPasswordLine {
			line = line[:maxPasswordLine]
		}
		if len(line) <= 2 {
			return "", fmt.Errorf("authd: the password in %s must be longer than 2 characters", path)
		}
		return line, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("authd: write the random password: %w", err)
	}
	log.Warn("authd: use_password is on and there was no password: a random one was written", "file", path)
	return pw, nil
}
