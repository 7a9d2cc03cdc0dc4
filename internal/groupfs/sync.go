package groupfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// This file is the shared directory's side of keeping it in step with a
// store that several nodes share (core's group sync): the entries the store
// keeps, and writes that apply the store's content to disk.
//
// An entry is ar.conf (Group ""), a group directory (Name ""), or a file of
// a group that a node would share: regular, not hidden, not merged.mg (each
// node builds that from the rest). Temporary files of WriteFileAtomic are
// hidden, so a write under way is never picked up.

// Entry is one kept entry on disk, with what tells a change without reading it.
type Entry struct {
	Group string
	Name  string
	Size  int64
	MTime int64 // Unix nanoseconds
}

// Kept reports whether a file of a group is one the store keeps.
func Kept(name string) bool {
	return validFileName(name) && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, MergedFile) &&
		name != ARConf
}

// entryPath is the path of an entry after checking its names.
func (d *Dir) entryPath(group, name string) (string, error) {
	if group == "" {
		if name != ARConf {
			return "", ErrBadName
		}
		return filepath.Join(d.root, ARConf), nil
	}
	p, err := d.groupPath(group)
	if err != nil {
		return "", err
	}
	if name == "" {
		return p, nil
	}
	if !Kept(name) {
		return "", ErrBadName
	}
	return filepath.Join(p, name), nil
}

func entryOf(group, name string, st fs.FileInfo) Entry {
	e := Entry{Group: group, Name: name, MTime: st.ModTime().UnixNano()}
	if name != "" {
		e.Size = st.Size()
	}
	return e
}

// Scan returns the kept entries on disk: ar.conf, every group and its kept files.
func (d *Dir) Scan() ([]Entry, error) {
	var out []Entry
	if st, err := os.Lstat(filepath.Join(d.root, ARConf)); err == nil && st.Mode().IsRegular() {
		out = append(out, entryOf("", ARConf, st))
	}
	groups, err := d.List()
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		p := filepath.Join(d.root, g)
		st, err := os.Lstat(p)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, entryOf(g, "", st))
		files, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		for _, f := range files {
			if !f.Type().IsRegular() || !Kept(f.Name()) {
				continue
			}
			if info, err := f.Info(); err == nil {
				out = append(out, entryOf(g, f.Name(), info))
			}
		}
	}
	return out, nil
}

// StatEntry returns an entry as it is on disk; ok is false when it is
// missing or of the wrong kind.
func (d *Dir) StatEntry(group, name string) (Entry, bool) {
	p, err := d.entryPath(group, name)
	if err != nil {
		return Entry{}, false
	}
	st, err := os.Lstat(p)
	if err != nil || (name == "" && !st.IsDir()) || (name != "" && !st.Mode().IsRegular()) {
		return Entry{}, false
	}
	return entryOf(group, name, st), true
}

// ReadEntry returns the content of a kept file.
func (d *Dir) ReadEntry(group, name string) ([]byte, error) {
	p, err := d.entryPath(group, name)
	if err != nil {
		return nil, err
	}
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return nil, ErrNoFile
	}
	return os.ReadFile(p)
}

// PutEntry makes a group directory (name "") or writes a kept file
// atomically with the given modification time; it returns the entry as
// written. A group's directory must exist.
func (d *Dir) PutEntry(group, name string, data []byte, mtime time.Time) (Entry, error) {
	p, err := d.entryPath(group, name)
	if err != nil {
		return Entry{}, err
	}
	if name == "" {
		if err := os.Mkdir(p, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return Entry{}, err
		}
	} else {
		if group != "" && !d.Exists(group) {
			return Entry{}, ErrNoGroup
		}
		if err := WriteFileAtomic(p, data, fileMode); err != nil {
			return Entry{}, err
		}
		if !mtime.IsZero() {
			os.Chtimes(p, mtime, mtime) // the store's time, so every node lists the same one
		}
	}
	e, ok := d.StatEntry(group, name)
	if !ok {
		return Entry{}, ErrNoFile
	}
	return e, nil
}

// RemoveEntry deletes a kept file, or a group directory with everything in
// it; a missing one is not an error.
func (d *Dir) RemoveEntry(group, name string) error {
	p, err := d.entryPath(group, name)
	if err != nil {
		return err
	}
	if name == "" {
		return os.RemoveAll(p)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
