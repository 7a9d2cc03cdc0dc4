package config

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// StoredOssecConf is where an ossec.conf uploaded through the API is kept,
// relative to the data directory; the next start or restart applies it.
const StoredOssecConf = "etc/ossec.conf"

// OssecFile is a parsed ossec.conf: the sections of all its <ossec_config>
// blocks, in order, each with its markup as written.
type OssecFile struct {
	Sections []*XMLNode
}

// XMLNode is one element of an ossec.conf.
type XMLNode struct {
	Tag   string
	Attrs []xml.Attr
	Text  string // character data directly inside, trimmed
	Kids  []*XMLNode
	Raw   string // the element's markup, from its start tag to its end tag
}

// Attr returns an attribute's value and whether it is set.
func (n *XMLNode) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// Kid returns the last child with the tag (the one Wazuh's readers keep).
func (n *XMLNode) Kid(tag string) *XMLNode {
	var out *XMLNode
	for _, k := range n.Kids {
		if k.Tag == tag {
			out = k
		}
	}
	return out
}

// OssecError is an ossec.conf muster refuses. Syntax says it is not
// well-formed XML; Messages are the lines Wazuh's daemons would log on
// checking it, ERROR and CRITICAL, in order.
type OssecError struct {
	Syntax   bool
	Messages []string
}

func (e *OssecError) Error() string { return strings.Join(e.Messages, ", ") }

var (
	xmlDeclRe  = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)
	commentRe  = regexp.MustCompile(`(?s)<!--(.*?)-->`)
	bareAmpRe  = regexp.MustCompile(`&([A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)?`)
	maxXMLDeep = 32
)

// ParseOssecConf reads ossec.conf content with the tolerance of Wazuh's
// reader ("--" inside comments, a bare "&" in a value); anything else that
// is not well-formed XML is an *OssecError with Syntax set.
func ParseOssecConf(data []byte) (*OssecFile, error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, err
	}
	f := &OssecFile{}
	for _, block := range root.Kids {
		if block.Tag != "ossec_config" {
			return nil, &OssecError{Messages: []string{invElem(block.Tag), configErr}}
		}
		f.Sections = append(f.Sections, block.Kids...)
	}
	return f, nil
}

func syntaxError(msg string, line int) *OssecError {
	return &OssecError{Syntax: true, Messages: []string{
		fmt.Sprintf("(1226): Error reading XML file '%s': %s (line %d).", StoredOssecConf, msg, line), configErr}}
}

func parseXML(data []byte) (*XMLNode, error) {
	if !utf8.Valid(data) {
		return nil, syntaxError("not UTF-8", 1)
	}
	s := xmlDeclRe.ReplaceAllString(string(data), "")
	s = commentRe.ReplaceAllStringFunc(s, func(c string) string {
		inner := strings.ReplaceAll(c[4:len(c)-3], "--", "..")
		if strings.HasSuffix(inner, "-") {
			inner = inner[:len(inner)-1] + "."
		}
		return "<!--" + inner + "-->"
	})
	s = bareAmpRe.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 1 {
			return m
		}
		return "&amp;"
	})
	doc := "<root>" + s + "</root>"
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var stack []*XMLNode
	var starts []int64
	var root *XMLNode
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, syntaxError(se.Msg, se.Line)
			}
			return nil, syntaxError(err.Error(), 1)
		}
		if root != nil && len(stack) == 0 {
			return nil, syntaxError("junk after document element", 1)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxXMLDeep {
				return nil, syntaxError(fmt.Sprintf("elements nested deeper than %d", maxXMLDeep), 1)
			}
			n := &XMLNode{Tag: t.Name.Local, Attrs: append([]xml.Attr(nil), t.Attr...)}
			if t.Name.Space != "" {
				n.Tag = t.Name.Space + ":" + t.Name.Local
			}
			if root == nil {
				root = n
			} else {
				top := stack[len(stack)-1]
				top.Kids = append(top.Kids, n)
			}
			stack = append(stack, n)
			starts = append(starts, before)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Raw = doc[starts[len(starts)-1]:dec.InputOffset()]
			n.Text = strings.TrimSpace(n.Text)
			stack, starts = stack[:len(stack)-1], starts[:len(starts)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		case xml.ProcInst, xml.Directive:
			return nil, syntaxError("processing instructions and directives are not allowed", 1)
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, syntaxError("unexpected end of document", 1)
	}
	return root, nil
}

// ReadStoredOssecConf reads the stored ossec.conf of a data directory; nil
// without error when none was uploaded.
func ReadStoredOssecConf(dataDir string) (*OssecFile, []byte, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, StoredOssecConf))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := ParseOssecConf(data)
	return f, data, err
}

// WriteStoredOssecConf replaces the stored ossec.conf atomically (a
// temporary file in the same directory, synced, then renamed), mode 0640:
// a crash leaves the old file or the new one, never a mix.
func WriteStoredOssecConf(dataDir string, data []byte) error {
	path := filepath.Join(dataDir, StoredOssecConf)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".ossec.conf.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Layered is the configuration a node runs with: base (server.yaml and
// flags) with the data directory's stored ossec.conf applied over it, and
// the stored file itself (nil when there is none).
func Layered(base Config, dataDir string) (Config, *OssecFile, error) {
	f, _, err := ReadStoredOssecConf(dataDir)
	if err != nil {
		return base, nil, err
	}
	if f == nil {
		return base, nil, nil
	}
	cfg, err := f.Apply(base)
	return cfg, f, err
}
