package rest

import (
	"errors"
	"fmt"
	"strings"
)

// A path names values inside a JSON document: keys separated by dots
// ("os.name"), where a segment that is a number also picks that element of
// an array ("interfaces.0.mac") and any other segment applied to an array
// applies to each of its elements ("interfaces.mac" collects the MAC of
// every interface). A dot inside a key is written "\." ; a path whose whole
// text is one key of the document ("@odata.nextLink") matches that key too.

// parsePath splits a dotted path into its segments.
func parsePath(p string) ([]string, error) {
	if strings.TrimSpace(p) != p {
		return nil, errors.New("has spaces around it")
	}
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 < len(p) && (p[i+1] == '.' || p[i+1] == '\\') {
				cur.WriteByte(p[i+1])
				i++
				continue
			}
			cur.WriteByte(c)
		case '.':
			if cur.Len() == 0 {
				return nil, errors.New("has an empty segment (two dots, or a dot at an end)")
			}
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, errors.New("has an empty segment (two dots, or a dot at an end)")
	}
	return append(segs, cur.String()), nil
}

// node is one step of a trie of paths: the keys below it, and the values
// (slots) that end at it.
type node struct {
	kids    map[string]*node
	slots   []int
	records bool // the page's records array is here
	index   bool // some kid is an array index
}

func (n *node) kid(seg string) *node {
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	k := n.kids[seg]
	if k == nil {
		k = &node{}
		n.kids[seg] = k
		if isIndex(seg) {
			n.index = true
		}
	}
	return k
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// trie is a set of paths, each ending in a numbered slot.
type trie struct {
	root  node
	names []string // each slot's path, as configured
}

// add puts a path into the trie; it returns the path's slot.
func (t *trie) add(path string) (int, error) {
	segs, err := parsePath(path)
	if err != nil {
		return 0, err
	}
	slot := len(t.names)
	t.names = append(t.names, path)
	n := t.walk(segs)
	n.slots = append(n.slots, slot)
	if len(segs) > 1 && !strings.Contains(path, `\`) {
		w := t.root.kid(path) // the whole path as one key
		w.slots = append(w.slots, slot)
	}
	return slot, nil
}

func (t *trie) walk(segs []string) *node {
	n := &t.root
	for _, s := range segs {
		n = n.kid(s)
	}
	return n
}

// addRecords marks where the records' array is; "" is the top-level value.
func (t *trie) addRecords(path string) error {
	if path == "" {
		t.root.records = true
		return nil
	}
	segs, err := parsePath(path)
	if err != nil {
		return err
	}
	t.walk(segs).records = true
	if len(segs) > 1 && !strings.Contains(path, `\`) {
		t.root.kid(path).records = true
	}
	return nil
}

func pathError(key, path string, err error) error {
	return fmt.Errorf("%s %q %v; write a dotted path such as data.items or interfaces.0.mac (a dot inside a key as \\.)", key, path, err)
}
