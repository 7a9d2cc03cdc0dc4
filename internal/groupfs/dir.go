package groupfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Errors of the shared directory.
var (
	ErrBadName = errors.New("groupfs: invalid group or file name")
	ErrNoGroup = errors.New("groupfs: group does not exist")
	ErrNoFile  = errors.New("groupfs: file does not exist")
)

// Names and files Wazuh's layout fixes.
const (
	ARConf      = "ar.conf"
	AgentConf   = "agent.conf"
	MergedFile  = "merged.mg"
	MaxNameLen  = 255
	dirMode     = 0o700
	fileMode    = 0o660
	DefaultName = "default"
)

// AgentTemplate is the agent.conf a new group starts with: Wazuh's
// agent-template.conf, byte for byte, so its MD5 is the one agents and
// tools expect (ab73af41699f13fdd81903b5f23d8d00).
const AgentTemplate = "<agent_config>\n\n  <!-- Shared agent configuration here -->\n\n</agent_config>\n"

// DefaultARConf is the active-response list a new manager shares with every
// group: the restart commands of Wazuh agents.
const DefaultARConf = "restart-ossec0 - restart-ossec.sh - 0\nrestart-ossec0 - restart-ossec.cmd - 0\n" +
	"restart-wazuh0 - restart-ossec.sh - 0\nrestart-wazuh0 - restart-ossec.cmd - 0\n" +
	"restart-wazuh0 - restart-wazuh - 0\nrestart-wazuh0 - restart-wazuh.exe - 0\n"

var (
	groupRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	fileRe  = regexp.MustCompile(`^[\w,\-.+\s:]+$`)
)

// ValidGroupName applies Wazuh's group name rules: letters, digits, ".",
// "_" and "-", at most 255 characters, and not "." or "..".
func ValidGroupName(name string) bool {
	return len(name) <= MaxNameLen && groupRe.MatchString(name) && name != "." && name != ".."
}

// validFileName accepts the names the API's file_name format allows that
// cannot leave a group directory.
func validFileName(name string) bool {
	return len(name) <= MaxNameLen && fileRe.MatchString(name) && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, " ")
}

// Dir is the shared directory, WAZUH_HOME/etc/shared.
type Dir struct {
	root  string
	multi string // multi-group merged files; "" keeps none on disk
}

// Open creates the shared directory when needed, with ar.conf and the
// default group.
func Open(root string) (*Dir, error) {
	d := &Dir{root: root}
	if err := os.MkdirAll(root, dirMode); err != nil {
		return nil, fmt.Errorf("shared directory: %w", err)
	}
	ar := filepath.Join(root, ARConf)
	if _, err := os.Lstat(ar); errors.Is(err, fs.ErrNotExist) {
		if err := WriteFileAtomic(ar, []byte(DefaultARConf), fileMode); err != nil {
			return nil, err
		}
	}
	if !d.Exists(DefaultName) {
		if err := d.Create(DefaultName); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Root returns the shared directory's path.
func (d *Dir) Root() string { return d.root }

// groupPath returns the directory of a group after checking its name.
func (d *Dir) groupPath(group string) (string, error) {
	if !ValidGroupName(group) {
		return "", ErrBadName
	}
	return filepath.Join(d.root, group), nil
}

// Exists reports whether group is a group: a real directory in the shared directory.
func (d *Dir) Exists(group string) bool {
	p, err := d.groupPath(group)
	if err != nil {
		return false
	}
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

// Taken reports whether something other than a directory holds the name
// (ar.conf, a template): such names are reserved.
func (d *Dir) Taken(name string) bool {
	p, err := d.groupPath(name)
	if err != nil {
		return false
	}
	st, err := os.Lstat(p)
	return err == nil && !st.IsDir()
}

// List returns the groups, sorted.
func (d *Dir) List() ([]string, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidGroupName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Create makes a group directory with the template agent.conf and its merged.mg.
func (d *Dir) Create(group string) error {
	p, err := d.groupPath(group)
	if err != nil {
		return err
	}
	if err := os.Mkdir(p, dirMode); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(p, AgentConf), []byte(AgentTemplate), fileMode); err != nil {
		os.RemoveAll(p)
		return err
	}
	_, _, err = d.Refresh(group)
	return err
}

// Remove deletes a group directory and everything in it.
func (d *Dir) Remove(group string) error {
	if !d.Exists(group) {
		return ErrNoGroup
	}
	p, _ := d.groupPath(group)
	return os.RemoveAll(p)
}

// File is one entry of a group's file list.
type File struct {
	Name    string
	Path    string // absolute path
	Regular bool   // false for directories and other entries, which have no hash
}

// Files lists a group's entries, sorted, plus the global ar.conf as Wazuh lists it.
func (d *Dir) Files(group string) ([]File, error) {
	if !d.Exists(group) {
		return nil, ErrNoGroup
	}
	p, _ := d.groupPath(group)
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		out = append(out, File{Name: e.Name(), Path: filepath.Join(p, e.Name()), Regular: e.Type().IsRegular()})
	}
	ar := filepath.Join(d.root, ARConf)
	st, err := os.Lstat(ar)
	out = append(out, File{Name: ARConf, Path: ar, Regular: err == nil && st.Mode().IsRegular()})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FilePath resolves a file of a group (ar.conf is the global one), refusing
// names that could leave the directory. The path is returned even when the
// file does not exist, for Wazuh's 1006 message.
func (d *Dir) FilePath(group, name string) (string, error) {
	gp, err := d.groupPath(group)
	if err != nil {
		return "", err
	}
	if !validFileName(name) {
		return "", ErrBadName
	}
	if name == ARConf {
		return filepath.Join(d.root, ARConf), nil
	}
	return filepath.Join(gp, name), nil
}

// ReadFile returns a regular file of a group; symbolic links and anything
// else that is not a regular file read as missing.
func (d *Dir) ReadFile(group, name string) ([]byte, string, error) {
	if !d.Exists(group) {
		return nil, "", ErrNoGroup
	}
	p, err := d.FilePath(group, name)
	if err != nil {
		return nil, "", err
	}
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return nil, p, ErrNoFile
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, p, ErrNoFile
	}
	return b, p, nil
}

// WriteConfig replaces a group's agent.conf atomically and rebuilds merged.mg.
func (d *Dir) WriteConfig(group string, data []byte) error {
	if !d.Exists(group) {
		return ErrNoGroup
	}
	p, _ := d.groupPath(group)
	if err := WriteFileAtomic(filepath.Join(p, AgentConf), data, fileMode); err != nil {
		return err
	}
	_, _, err := d.Refresh(group)
	return err
}

// WriteFileAtomic writes a file through a temporary file in the same
// directory, fsync and rename, then syncs the directory: readers see the
// old or the new content, never a part.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}
