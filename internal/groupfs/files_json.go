package groupfs

import (
	"regexp"
	"strconv"
	"strings"
)

// File types of GET /groups/{id}/files/{file}?type=.
const (
	TypeConf           = "conf"
	TypeRootkitFiles   = "rootkit_files"
	TypeRootkitTrojans = "rootkit_trojans"
	TypeRCL            = "rcl"
)

// FileToJSON converts a group file the way Wazuh's API shows it: by the
// requested type, else by the file name (agents.md §7.10).
func FileToJSON(name, typ string, data []byte) (any, error) {
	switch {
	case typ == TypeConf || (typ == "" && name == AgentConf):
		items, err := ToJSON(data)
		if err != nil {
			return nil, err
		}
		list := make([]any, len(items))
		for i, it := range items {
			list[i] = it
		}
		return Obj{{"total_affected_items", len(items)}, {"affected_items", list}}, nil
	case typ == TypeRootkitFiles || (typ == "" && name == "rootkit_files.txt"):
		return rootkitFiles(data), nil
	case typ == TypeRootkitTrojans || (typ == "" && name == "rootkit_trojans.txt"):
		return rootkitTrojans(data), nil
	case typ == "" && name == ARConf:
		out := []any{}
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			out = append(out, l)
		}
		return out, nil
	case typ == "" && name == MergedFile:
		return mergedFiles(data), nil
	}
	return rcl(data), nil
}

// dataLines returns the lines that are neither empty nor comments.
func dataLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// rootkitFiles reads lines "file ! Name ::Link".
func rootkitFiles(data []byte) []any {
	out := []any{}
	for _, l := range dataLines(data) {
		file, rest, ok := strings.Cut(l, "!")
		if !ok {
			continue
		}
		name, link, _ := strings.Cut(rest, "::")
		out = append(out, Obj{{"filename", strings.TrimSpace(file)}, {"name", strings.TrimSpace(name)},
			{"link", strings.TrimSpace(link)}})
	}
	return out
}

// rootkitTrojans reads lines "file !pattern! description".
func rootkitTrojans(data []byte) []any {
	out := []any{}
	for _, l := range dataLines(data) {
		parts := strings.SplitN(l, "!", 3)
		if len(parts) < 2 {
			continue
		}
		o := Obj{{"filename", strings.TrimSpace(parts[0])}, {"name", strings.TrimSpace(parts[1])}}
		if len(parts) == 3 && strings.TrimSpace(parts[2]) != "" {
			o.Set("description", strings.TrimSpace(parts[2]))
		}
		out = append(out, o)
	}
	return out
}

// mergedFiles splits a merged.mg into its files, skipping the group line.
func mergedFiles(data []byte) []any {
	out := []any{}
	s := string(data)
	if i := strings.IndexByte(s, '\n'); i >= 0 && strings.HasPrefix(s, "#") {
		s = s[i+1:]
	}
	for strings.HasPrefix(s, "!") {
		nl := strings.IndexByte(s, '\n')
		if nl < 0 {
			break
		}
		sizeStr, name, _ := strings.Cut(s[1:nl], " ")
		size, err := strconv.Atoi(sizeStr)
		body := s[nl+1:]
		if err != nil || size < 0 || size > len(body) {
			break
		}
		out = append(out, Obj{{"file_name", name}, {"file_size", size}, {"file_content", body[:size]}})
		s = body[size:]
	}
	return out
}

var (
	rclHeader = regexp.MustCompile(`^\[(.*?)\]\s*\[(.*?)\]\s*\[(.*?)\]\s*$`)
	rclTag    = regexp.MustCompile(`\{([A-Za-z_ ]+):\s*([^}]*)\}`)
)

// rcl reads a rootcheck policy: "$name=value;" variables, then controls
// "[name {CIS: x} {PCI_DSS: y}] [condition] [reference]" each followed by
// its check lines. The list starts with an empty object, as Wazuh's does.
func rcl(data []byte) Obj {
	vars := Obj{}
	controls := []any{Obj{}}
	var cur Obj
	flush := func() {
		if cur != nil {
			controls = append(controls, cur)
		}
	}
	for _, l := range dataLines(data) {
		switch {
		case strings.HasPrefix(l, "$"):
			k, v, ok := strings.Cut(l, "=")
			if ok {
				vars.Set(k, strings.TrimSuffix(v, ";"))
			}
		case rclHeader.MatchString(l):
			flush()
			m := rclHeader.FindStringSubmatch(l)
			name := strings.TrimSpace(rclTag.ReplaceAllString(m[1], ""))
			cis, pci := []any{}, []any{}
			for _, t := range rclTag.FindAllStringSubmatch(m[1], -1) {
				switch strings.ToUpper(strings.TrimSpace(t[1])) {
				case "CIS":
					cis = append(cis, strings.TrimSpace(t[2]))
				case "PCI_DSS":
					pci = append(pci, strings.TrimSpace(t[2]))
				}
			}
			cur = Obj{{"name", name}, {"cis", cis}, {"pci", pci}, {"condition", m[2]}, {"reference", m[3]},
				{"checks", []any{}}}
		case cur != nil:
			checks, _ := cur.Get("checks")
			cur.Set("checks", append(checks.([]any), l))
		}
	}
	flush()
	return Obj{{"vars", vars}, {"controls", controls}}
}
