package groupfs

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of agent.conf elements.
const MaxDepth = 32

// SyntaxError is an agent.conf that is not well-formed XML (Wazuh 1113).
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return e.Msg }

// ConfigError is a well-formed agent.conf Wazuh's checker refuses (1114).
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// node is one parsed element.
type node struct {
	tag   string
	attrs []xml.Attr
	text  string // character data directly inside, as decoded
	raw   string // inner markup as written (for localfile/query)
	kids  []*node
}

// Markers for Wazuh's backslash escapes "\<" and "\>", which let a value
// carry markup (Windows event queries); U+E000/U+E001 are private-use
// characters that XML accepts in text.
const (
	escLT = "\uE000"
	escGT = "\uE001"
)

var (
	xmlDecl   = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)
	bareAmp   = regexp.MustCompile(`&([A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)?`)
	bareLT    = regexp.MustCompile(`<([^A-Za-z_:/!?]|$)`)
	commentRe = regexp.MustCompile(`(?s)<!--(.*?)-->`)
)

// prepare applies the tolerance of Wazuh's agent.conf reader before the
// strict XML parse: "--" inside comments, bare "&" and "<" in text, and the
// backslash escapes.
func prepare(data []byte) string {
	s := string(data)
	s = xmlDecl.ReplaceAllString(s, "")
	s = commentRe.ReplaceAllStringFunc(s, func(c string) string {
		inner := c[4 : len(c)-3]
		inner = strings.ReplaceAll(inner, "--", "..")
		if strings.HasSuffix(inner, "-") {
			inner = inner[:len(inner)-1] + "."
		}
		return "<!--" + inner + "-->"
	})
	s = strings.ReplaceAll(s, `\<`, `\`+escLT)
	s = strings.ReplaceAll(s, `\>`, `\`+escGT)
	s = bareAmp.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) > 1 {
			return m
		}
		return "&amp;"
	})
	s = bareLT.ReplaceAllStringFunc(s, func(m string) string { return "&lt;" + m[1:] })
	return s
}

// parse reads agent.conf content into a tree under a synthetic root.
func parse(data []byte) (*node, error) {
	if !utf8.Valid(data) {
		return nil, &SyntaxError{"not UTF-8"}
	}
	doc := "<root>" + prepare(data) + "</root>"
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var root *node
	var stack []*node
	var starts []int64
	junk := &SyntaxError{"junk after document element"}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &SyntaxError{syntaxMsg(err)}
		}
		if len(stack) == 0 && root != nil {
			if _, ok := tok.(xml.Comment); ok {
				continue
			}
			return nil, junk
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > MaxDepth {
				return nil, &SyntaxError{fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			n := &node{tag: t.Name.Local, attrs: append([]xml.Attr(nil), t.Attr...)}
			if t.Name.Space != "" {
				n.tag = t.Name.Space + ":" + t.Name.Local
			}
			if root == nil {
				root = n
			} else {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
			starts = append(starts, dec.InputOffset())
		case xml.EndElement:
			stack[len(stack)-1].raw = doc[starts[len(starts)-1]:start]
			stack, starts = stack[:len(stack)-1], starts[:len(starts)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		case xml.ProcInst, xml.Directive:
			return nil, &SyntaxError{"processing instructions and directives are not allowed"}
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, &SyntaxError{"unexpected end of document"}
	}
	return root, nil
}

func syntaxMsg(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (line %d)", se.Msg, se.Line)
	}
	return err.Error()
}

// value is the text of an option as Wazuh returns it: trimmed, with the
// backslash escapes restored.
func value(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, escLT, "<")
	return strings.ReplaceAll(s, escGT, ">")
}

var indentRun = regexp.MustCompile(`\n\s*`)

// queryValue is a localfile query: the inner markup as written, newline and
// indentation runs collapsed, "\<" and "\>" unescaped.
func queryValue(n *node) string {
	s := indentRun.ReplaceAllString(n.raw, " ")
	s = strings.ReplaceAll(s, `\`+escLT, "<")
	s = strings.ReplaceAll(s, `\`+escGT, ">")
	s = strings.ReplaceAll(s, escLT, "<")
	return strings.ReplaceAll(s, escGT, ">")
}

// Parse checks agent.conf content as PUT /groups/{id}/configuration does:
// well-formed XML (else *SyntaxError), then Wazuh's structure rules (else
// *ConfigError).
func Parse(data []byte) error {
	root, err := parse(data)
	if err != nil {
		return err
	}
	return check(root)
}

// ToJSON converts agent.conf content to the data of GET
// /groups/{id}/configuration: one item per distinct set of filters.
func ToJSON(data []byte) ([]Obj, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	return convert(root), nil
}
