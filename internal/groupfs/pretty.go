package groupfs

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// Reformat rewrites uploaded agent.conf content the way Wazuh stores it
// (PUT /groups/{id}/configuration): parsed under a root element and
// printed again with Python minidom's pretty printer, two spaces per level,
// attributes in double quotes, blank lines dropped, the escapes minidom
// adds turned back into characters, while "\<", "\>", "&lt;" and "&gt;"
// written by the user are kept as written. What an agent receives, and
// the sums it reports, are of this text.
func Reformat(data []byte) ([]byte, error) {
	s := string(data)
	for _, r := range customEntities {
		s = strings.ReplaceAll(s, r[1], r[0])
	}
	root, err := parseDOM("<root>\n" + s + "\n</root>")
	if err != nil {
		return nil, &SyntaxError{syntaxMsg(err)}
	}
	var out strings.Builder
	root.write(&out, "", "  ")
	lines := strings.Split(out.String(), "\n")
	// Drop <root>, </root> and the trailing empty line, then blank lines.
	if len(lines) >= 3 {
		lines = lines[1 : len(lines)-2]
	}
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	p := strings.Join(kept, "\n") + "\n"
	p = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&quot;", `"`, "&gt;", ">", "\\\n", "\\").Replace(p)
	p = spacesAfterBackslash.ReplaceAllString(p, `\`)
	for _, r := range customEntities {
		p = strings.ReplaceAll(p, r[0], r[1])
	}
	return []byte(p), nil
}

// customEntities are the sequences Wazuh hides from the parser and restores.
var customEntities = [][2]string{
	{"_custom_open_tag_", `\<`}, {"_custom_close_tag_", `\>`},
	{"_custom_amp_lt_", "&lt;"}, {"_custom_amp_gt_", "&gt;"},
}

var spacesAfterBackslash = regexp.MustCompile(`\\ +`)

// domNode is an element, a text or a comment, as minidom holds them.
type domNode struct {
	kind  byte // 'e', 't', 'c'
	name  string
	attrs []xml.Attr
	data  string
	kids  []*domNode
}

func parseDOM(doc string) (*domNode, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var root *domNode
	var stack []*domNode
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var top *domNode
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > MaxDepth {
				return nil, errors.New("elements nested too deep")
			}
			n := &domNode{kind: 'e', name: qname(t.Name), attrs: t.Attr}
			if top == nil {
				if root != nil {
					return nil, errors.New("junk after document element")
				}
				root = n
			} else {
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if top == nil || top.name != qname(t.Name) {
				return nil, errors.New("mismatched tag")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if top == nil {
				continue
			}
			text := string(t) // entities already resolved
			if k := len(top.kids); k > 0 && top.kids[k-1].kind == 't' {
				top.kids[k-1].data += text // adjacent text is one node
			} else {
				top.kids = append(top.kids, &domNode{kind: 't', data: text})
			}
		case xml.Comment:
			if top != nil {
				top.kids = append(top.kids, &domNode{kind: 'c', data: string(t)})
			}
		case xml.ProcInst, xml.Directive:
			return nil, errors.New("processing instructions and directives are not allowed")
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("unexpected end of document")
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// write prints the node as minidom's writexml does with newl "\n".
func (n *domNode) write(w *strings.Builder, indent, add string) {
	switch n.kind {
	case 't':
		w.WriteString(escapeData(indent + n.data + "\n"))
	case 'c':
		w.WriteString(indent + "<!--" + n.data + "-->\n")
	case 'e':
		w.WriteString(indent + "<" + n.name)
		for _, a := range n.attrs {
			w.WriteString(" " + qname(a.Name) + `="` + escapeData(a.Value) + `"`)
		}
		if len(n.kids) == 0 {
			w.WriteString("/>\n")
			return
		}
		w.WriteString(">")
		if len(n.kids) == 1 && n.kids[0].kind == 't' {
			w.WriteString(escapeData(n.kids[0].data))
		} else {
			w.WriteString("\n")
			for _, k := range n.kids {
				k.write(w, indent+add, add)
			}
			w.WriteString(indent)
		}
		w.WriteString("</" + n.name + ">\n")
	}
}

var dataEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", ">", "&gt;")

func escapeData(s string) string { return dataEscaper.Replace(s) }
