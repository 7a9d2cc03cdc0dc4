package groupfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MultigroupHash names the merged files of an agent in several groups:
// the first 8 hex digits of the SHA-256 of the comma-separated list.
func MultigroupHash(groups []string) string {
	sum := sha256.Sum256([]byte(strings.Join(groups, ",")))
	return hex.EncodeToString(sum[:4])
}

// SetMultigroupRoot sets where multi-group merged files are kept
// (WAZUH_HOME/var/multigroups).
func (d *Dir) SetMultigroupRoot(root string) { d.multi = root }

// MergedFor builds the merged.mg an agent of these groups receives: the
// group's own for one group; for several, remoted's multi-group file
// headed "#<hash>" whose agent.conf joins each group's, every part after
// a "<!-- Source file: <group>/agent.conf -->" line, and whose other files
// come from the last group holding them.
func (d *Dir) MergedFor(groups []string) ([]byte, error) {
	switch len(groups) {
	case 0:
		return nil, ErrNoGroup
	case 1:
		return d.Merged(groups[0])
	}
	var conf bytes.Buffer
	files := map[string][]byte{}
	for _, g := range groups {
		if !d.Exists(g) {
			return nil, ErrNoGroup
		}
		dir := filepath.Join(d.root, g)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") || strings.HasPrefix(n, MergedFile) || n == ARConf || !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil || bytes.IndexByte(b, 0) >= 0 {
				continue
			}
			if n == AgentConf {
				conf.WriteString("<!-- Source file: " + g + "/" + AgentConf + " -->\n")
				conf.Write(b)
				continue
			}
			files[n] = b
		}
	}
	files[AgentConf] = conf.Bytes()
	var buf bytes.Buffer
	buf.WriteString("#" + MultigroupHash(groups) + "\n")
	if b, err := os.ReadFile(filepath.Join(d.root, ARConf)); err == nil {
		buf.WriteString("!" + strconv.Itoa(len(b)) + " " + ARConf + "\n")
		buf.Write(b)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		buf.WriteString("!" + strconv.Itoa(len(files[n])) + " " + n + "\n")
		buf.Write(files[n])
	}
	return buf.Bytes(), nil
}

// RefreshMultigroup writes the merged.mg of a multi-group under the
// multi-group root when its content changed; it returns the file's MD5.
func (d *Dir) RefreshMultigroup(groups []string) (string, error) {
	b, err := d.MergedFor(groups)
	if err != nil {
		return "", err
	}
	sum := MD5(b)
	if d.multi == "" || len(groups) < 2 {
		return sum, nil
	}
	dir := filepath.Join(d.multi, MultigroupHash(groups))
	path := filepath.Join(dir, MergedFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return sum, nil
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return "", err
	}
	return sum, WriteFileAtomic(path, b, fileMode)
}
