package groupfs

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"crypto/sha3"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"
)

// Merged builds a group's merged.mg as remoted does (protocols.md §5.4): a
// "#<group>" line, then for ar.conf and every other regular, non-hidden,
// text file of the group in name order (merged.mg itself excluded) a line
// "!<size> <name>" followed by the file's bytes.
func (d *Dir) Merged(group string) ([]byte, error) {
	if !d.Exists(group) {
		return nil, ErrNoGroup
	}
	p, _ := d.groupPath(group)
	var buf bytes.Buffer
	buf.WriteString("#" + group + "\n")
	add := func(name, path string) error {
		st, err := os.Lstat(path)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return nil // binary files are not shared
		}
		buf.WriteString("!" + strconv.Itoa(len(b)) + " " + name + "\n")
		buf.Write(b)
		return nil
	}
	if err := add(ARConf, filepath.Join(d.root, ARConf)); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, MergedFile) || n == ARConf || !e.Type().IsRegular() {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := add(n, filepath.Join(p, n)); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// Refresh rebuilds a group's merged.mg and rewrites it when its content
// changed; it returns the file's MD5.
func (d *Dir) Refresh(group string) (sum string, changed bool, err error) {
	b, err := d.Merged(group)
	if err != nil {
		return "", false, err
	}
	sum = MD5(b)
	p, _ := d.groupPath(group)
	path := filepath.Join(p, MergedFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return sum, false, nil
	}
	if err := WriteFileAtomic(path, b, fileMode); err != nil {
		return "", false, err
	}
	return sum, true, nil
}

// RefreshAll refreshes every group; it returns the groups whose merged.mg changed.
func (d *Dir) RefreshAll() ([]string, error) {
	groups, err := d.List()
	if err != nil {
		return nil, err
	}
	var changed []string
	var errs []error
	for _, g := range groups {
		_, ch, err := d.Refresh(g)
		if err != nil {
			errs = append(errs, err)
		}
		if ch {
			changed = append(changed, g)
		}
	}
	return changed, errors.Join(errs...)
}

// MD5 returns the hex MD5 of b.
func MD5(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// HashAlgorithms are the values of the API's hash parameter.
var HashAlgorithms = []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s",
	"sha3_224", "sha3_256", "sha3_384", "sha3_512"}

// NewHash returns the hash of an algorithm named as Python's hashlib does.
func NewHash(algo string) (hash.Hash, bool) {
	switch algo {
	case "md5":
		return md5.New(), true
	case "sha1":
		return sha1.New(), true
	case "sha224":
		return sha256.New224(), true
	case "sha256":
		return sha256.New(), true
	case "sha384":
		return sha512.New384(), true
	case "sha512":
		return sha512.New(), true
	case "blake2b":
		h, _ := blake2b.New512(nil)
		return h, true
	case "blake2s":
		h, _ := blake2s.New256(nil)
		return h, true
	case "sha3_224":
		return sha3.New224(), true
	case "sha3_256":
		return sha3.New256(), true
	case "sha3_384":
		return sha3.New384(), true
	case "sha3_512":
		return sha3.New512(), true
	}
	return nil, false
}

// FileHash hashes a file with an algorithm; ok is false when it cannot be read.
func FileHash(path, algo string) (string, bool) {
	h, ok := NewHash(algo)
	if !ok {
		return "", false
	}
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), true
}
