package agentsim

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// readFleetYAML reads the YAML form:
//
//	keys: client.keys          # optional
//	defaults: {version: 4.14.7, keepalive: 10s}   # optional, any field but name, count, start, id, key
//	agents:
//	  - {name: web-{n:02}, count: 4, os: ubuntu-22.04, groups: [web], labels: {env: prod}}
//	  - {name: legacy-db, id: "009", version: 3.13.2, os: centos-7, behaviour: silent after 30s}
//
// Every key is checked here, with its line: the YAML library's strict mode
// does not work on nodes, and line numbers need nodes.
func readFleetYAML(file string, data []byte) (entries []rawEntry, defaults *rawEntry, keys string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, "", &FleetError{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, "", &FleetError{File: file, Msg: "empty file: want a mapping with agents:"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, "", &FleetError{file, root.Line, "want a mapping with keys:, defaults: and agents:"}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if l, dup := seen[k.Value]; dup {
			return nil, nil, "", &FleetError{file, k.Line, fmt.Sprintf("%s given twice (also on line %d)", k.Value, l)}
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "keys":
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				return nil, nil, "", &FleetError{file, v.Line, "keys: want the path of a client.keys file"}
			}
			keys = strings.TrimSpace(v.Value)
		case "defaults":
			e, err := yamlEntry(file, v)
			if err != nil {
				return nil, nil, "", err
			}
			for f := range e.fields {
				if perAgentFields[f] {
					return nil, nil, "", &FleetError{file, e.fields[f].line,
						fmt.Sprintf("defaults: %s is per agent, it cannot be a default", f)}
				}
			}
			defaults = &e
		case "agents":
			if v.Kind != yaml.SequenceNode {
				return nil, nil, "", &FleetError{file, v.Line, "agents: want a list of agents"}
			}
			for _, n := range v.Content {
				e, err := yamlEntry(file, n)
				if err != nil {
					return nil, nil, "", err
				}
				entries = append(entries, e)
			}
		default:
			return nil, nil, "", &FleetError{file, k.Line, fmt.Sprintf("unknown key %q (want keys, defaults, agents)", k.Value)}
		}
	}
	return entries, defaults, keys, nil
}

// yamlEntry reads one agent mapping.
func yamlEntry(file string, n *yaml.Node) (rawEntry, error) {
	e := rawEntry{line: n.Line, fields: map[string]rawField{}}
	if n.Kind != yaml.MappingNode {
		return e, &FleetError{file, n.Line, "an agent is a mapping such as {name: web-01}"}
	}
	set := func(k *yaml.Node, name string, f rawField) error {
		if old, dup := e.fields[name]; dup {
			return &FleetError{file, k.Line, fmt.Sprintf("%s given twice (also on line %d)", name, old.line)}
		}
		e.fields[name] = f
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if name == "behavior" {
			name = "behaviour"
		}
		switch {
		case name == "os" && v.Kind == yaml.ScalarNode:
			if err := set(k, "os.base", rawField{line: v.Line, text: v.Value}); err != nil {
				return e, err
			}
		case name == "os" && v.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				ok, ov := v.Content[j], v.Content[j+1]
				if !entryFields["os."+ok.Value] {
					return e, &FleetError{file, ok.Line, fmt.Sprintf("os: unknown key %q (want base, sysname, kernel, "+
						"build, arch, name, id, version)", ok.Value)}
				}
				if ov.Kind != yaml.ScalarNode {
					return e, &FleetError{file, ov.Line, "os." + ok.Value + ": want a single value"}
				}
				if err := set(ok, "os."+ok.Value, rawField{line: ov.Line, text: ov.Value}); err != nil {
					return e, err
				}
			}
		case name == "os":
			return e, &FleetError{file, v.Line, "os: want a preset name or a mapping such as {base: debian-12}"}
		case name == "labels":
			f := rawField{line: v.Line}
			if v.Kind != yaml.MappingNode {
				return e, &FleetError{file, v.Line, "labels: want a mapping such as {env: prod}"}
			}
			keys := map[string]bool{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				lk, lv := v.Content[j], v.Content[j+1]
				if lv.Kind != yaml.ScalarNode {
					return e, &FleetError{file, lv.Line, "labels." + lk.Value + ": want a single value"}
				}
				if keys[lk.Value] {
					return e, &FleetError{file, lk.Line, fmt.Sprintf("labels: %q given twice", lk.Value)}
				}
				keys[lk.Value] = true
				f.labels = append(f.labels, rawLabel{lk.Line, lk.Value, lv.Value})
			}
			if err := set(k, "labels", f); err != nil {
				return e, err
			}
		case entryFields[name] && !strings.HasPrefix(name, "os."):
			f := rawField{line: v.Line}
			switch v.Kind {
			case yaml.ScalarNode:
				f.text = v.Value
			case yaml.SequenceNode:
				f.isList = true
				for _, it := range v.Content {
					if it.Kind != yaml.ScalarNode {
						return e, &FleetError{file, it.Line, name + ": want a list of single values"}
					}
					f.list = append(f.list, it.Value)
				}
			default:
				return e, &FleetError{file, v.Line, name + ": want a single value"}
			}
			if err := set(k, name, f); err != nil {
				return e, err
			}
		default:
			return e, &FleetError{file, k.Line, fmt.Sprintf("unknown key %q (want name, count, start, id, key, "+
				"version, os, groups, labels, source, keepalive, managers, behaviour)", k.Value)}
		}
	}
	return e, nil
}

// csvColumns maps CSV headers to the canonical field names.
var csvColumns = map[string]string{"name": "name", "count": "count", "start": "start", "id": "id", "key": "key",
	"version": "version", "os": "os.base", "os_sysname": "os.sysname", "os_kernel": "os.kernel",
	"os_build": "os.build", "os_arch": "os.arch", "os_name": "os.name", "os_id": "os.id",
	"os_version": "os.version", "groups": "groups", "labels": "labels", "source": "source",
	"keepalive": "keepalive", "managers": "managers", "behaviour": "behaviour", "behavior": "behaviour"}

// readFleetCSV reads the CSV form: a header naming the columns (any of
// csvColumns, in any order), then one row per agent or block. An empty cell
// is a field not given. groups and managers are separated by commas (quote
// the cell) or semicolons, labels written key=value;key=value. Lines
// starting with # are comments.
func readFleetCSV(file string, data []byte) ([]rawEntry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FleetError{File: file, Msg: "empty file: want a header such as name,version,os"}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	hl, _ := r.FieldPos(0)
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		c, ok := csvColumns[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			return nil, &FleetError{file, hl, fmt.Sprintf("unknown column %q (want name, count, start, id, key, "+
				"version, os, os_name, os_id, os_version, os_kernel, os_build, os_arch, os_sysname, groups, labels, "+
				"source, keepalive, managers, behaviour)", h)}
		}
		if seen[c] {
			return nil, &FleetError{file, hl, fmt.Sprintf("column %q given twice", h)}
		}
		seen[c], cols[i] = true, c
	}
	if !seen["name"] {
		return nil, &FleetError{file, hl, "the header has no name column"}
	}
	var out []rawEntry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := r.FieldPos(0)
		e := rawEntry{line: line, fields: map[string]rawField{}}
		for i, v := range rec {
			if strings.TrimSpace(v) == "" {
				continue
			}
			f := rawField{line: line, text: v}
			if cols[i] == "labels" {
				for _, kv := range strings.Split(v, ";") {
					if strings.TrimSpace(kv) == "" {
						continue
					}
					k, val, ok := strings.Cut(kv, "=")
					if !ok {
						return nil, &FleetError{file, line, fmt.Sprintf("labels: %q is not key=value", kv)}
					}
					f.labels = append(f.labels, rawLabel{line, strings.TrimSpace(k), strings.TrimSpace(val)})
				}
			}
			e.fields[cols[i]] = f
		}
		out = append(out, e)
	}
}

// csvError turns the CSV reader's error into one naming the line.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FleetError{file, pe.Line, pe.Err.Error()}
	}
	return &FleetError{File: file, Msg: err.Error()}
}
