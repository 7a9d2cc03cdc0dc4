package groupfs

import "strings"

// OssecConfToJSON converts ossec.conf content to the object GET
// /manager/configuration answers: every section of every <ossec_config>
// block, by the same rules as agent.conf's sections.
func OssecConfToJSON(data []byte) (Obj, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	out := Obj{}
	for _, block := range root.kids {
		if strings.ToLower(block.tag) != "ossec_config" {
			continue
		}
		for _, sec := range block.kids {
			name := sectionName(sec)
			insertSection(&out, name, section(name, sec))
		}
	}
	return out, nil
}

// sectionName is a section's key: its lower-cased tag, or a wodle's name.
func sectionName(sec *node) string {
	name := strings.ToLower(sec.tag)
	if name == "wodle" {
		for _, a := range sec.attrs {
			if a.Name.Local == "name" {
				name = a.Value
			}
		}
	}
	return name
}
