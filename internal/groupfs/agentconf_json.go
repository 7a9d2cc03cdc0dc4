package groupfs

import (
	"encoding/xml"
	"slices"
	"sort"
	"strings"
)

// How a section is added to an item's config (agents.md §7.7).
const (
	kindPlain     = iota // any other tag: replaces
	kindDuplicate        // a list of one object per occurrence
	kindMerge            // one object; later options overwrite, list options extend
	kindLast             // the last occurrence wins
)

var sectionKinds = map[string]int{
	"active-response": kindDuplicate, "command": kindDuplicate, "agentless": kindDuplicate,
	"localfile": kindDuplicate, "remote": kindDuplicate, "syslog_output": kindDuplicate,
	"integration": kindDuplicate, "labels": kindDuplicate,
	"alerts": kindMerge, "client": kindMerge, "email_alerts": kindMerge, "reports": kindMerge,
	"global": kindMerge, "open-scap": kindMerge, "cis-cat": kindMerge, "syscollector": kindMerge,
	"rootcheck": kindMerge, "ruleset": kindMerge, "syscheck": kindMerge, "auth": kindMerge,
	"osquery": kindMerge, "sca": kindMerge,
	"cluster": kindLast, "vulnerability-detection": kindLast, "indexer": kindLast, "anti_tampering": kindLast,
}

// listOptions are the options that are always lists, per section.
var listOptions = map[string][]string{
	"localfile":    {"filter", "ignore"},
	"syscheck":     {"directories", "ignore", "nodiff"},
	"labels":       {"label"},
	"rootcheck":    {"rootkit_files", "rootkit_trojans", "windows_audit", "system_audit", "windows_apps", "windows_malware"},
	"sca":          {"policies"},
	"global":       {"white_list"},
	"ruleset":      {"include", "rule", "rule_dir", "decoder", "decoder_dir", "list", "rule_exclude", "decoder_exclude"},
	"email_alerts": {"email_to"},
	"reports":      {"email_to"},
	"open-scap":    {"content"},
	"cis-cat":      {"content"},
	"osquery":      {"pack"},
	"cluster":      {"nodes"},
	"indexer":      {"hosts"},
}

func isList(section, option string) bool { return slices.Contains(listOptions[section], option) }

func attrObj(attrs []xml.Attr) Obj {
	o := Obj{}
	for _, a := range attrs {
		o.Set(a.Name.Local, a.Value)
	}
	return o
}

// convert turns the parsed document into the items of GET configuration.
func convert(root *node) []Obj {
	type item struct {
		filters Obj
		config  *Obj
	}
	var items []item
	for _, ac := range root.kids {
		if ac.tag != "agent_config" {
			continue
		}
		filters := attrObj(ac.attrs)
		var target *Obj
		for _, it := range items {
			if sameFilters(it.filters, filters) {
				target = it.config
				break
			}
		}
		if target == nil {
			target = &Obj{}
			items = append(items, item{filters, target})
		}
		for _, sec := range ac.kids {
			name := sectionName(sec)
			insertSection(target, name, section(name, sec))
		}
	}
	out := make([]Obj, 0, len(items))
	for _, it := range items {
		out = append(out, Obj{{"filters", it.filters}, {"config", *it.config}})
	}
	return out
}

func sameFilters(a, b Obj) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(o Obj) []string {
		var ks []string
		for _, kv := range o {
			ks = append(ks, kv.Key+"\x00"+kv.Value.(string))
		}
		sort.Strings(ks)
		return ks
	}
	return slices.Equal(key(a), key(b))
}

// section converts the options of one section element.
func section(name string, sec *node) Obj {
	out := Obj{}
	for _, opt := range sec.kids {
		oname := strings.ToLower(opt.tag)
		val, ok := option(name, opt)
		if !ok {
			continue
		}
		if !isList(name, oname) {
			out.Set(oname, val)
			continue
		}
		cur, _ := out.Get(oname)
		list, _ := cur.([]any)
		if more, isSlice := val.([]any); isSlice {
			list = append(list, more...)
		} else {
			list = append(list, val)
		}
		out.Set(oname, list)
	}
	return out
}

// option converts one option element; ok is false for an empty one.
func option(section string, opt *node) (any, bool) {
	oname := strings.ToLower(opt.tag)
	text := value(opt.text)
	switch {
	case section == "syscheck" && oname == "directories":
		var list []any
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o := attrObj(opt.attrs)
				o.Set("path", p)
				list = append(list, o)
			}
		}
		return list, len(list) > 0
	case section == "syscheck" && (oname == "synchronization" || oname == "whodata"):
		o := Obj{}
		for _, k := range opt.kids {
			if v, ok := option(section+"/"+oname, k); ok {
				o.Set(strings.ToLower(k.tag), v)
			}
		}
		return o, true
	case section == "labels" && oname == "label":
		o := Obj{{"value", text}}
		for _, a := range opt.attrs {
			o.Set(a.Name.Local, a.Value)
		}
		return o, true
	case section == "localfile" && oname == "query":
		q := queryValue(opt)
		return q, strings.TrimSpace(q) != ""
	case section == "cluster" && oname == "nodes", section == "sca" && oname == "policies",
		section == "indexer" && oname == "hosts", section == "haproxy_helper" && oname == "excluded_nodes":
		// Lists written as one child element per value.
		var list []any
		for _, k := range opt.kids {
			list = append(list, value(k.text))
		}
		return list, len(list) > 0
	case section == "remote" && oname == "protocol":
		var list []any
		for _, p := range strings.Split(text, ",") {
			list = append(list, strings.TrimSpace(p))
		}
		return list, text != ""
	}
	if len(opt.attrs) == 0 && len(opt.kids) == 0 {
		return text, text != ""
	}
	o := attrObj(opt.attrs)
	if len(opt.kids) == 0 {
		o.Set("item", text)
		return o, true
	}
	for _, k := range opt.kids {
		v, ok := option(section+"/"+oname, k)
		if !ok {
			continue
		}
		kname := strings.ToLower(k.tag)
		cur, _ := o.Get(kname)
		list, _ := cur.([]any)
		o.Set(kname, append(list, v))
	}
	return o, true
}

// insertSection adds a converted section to an item's config by its kind.
func insertSection(config *Obj, name string, sec Obj) {
	switch sectionKinds[name] {
	case kindDuplicate:
		cur, _ := config.Get(name)
		list, _ := cur.([]any)
		config.Set(name, append(list, sec))
	case kindMerge:
		cur, ok := config.Get(name)
		old, isObj := cur.(Obj)
		if !ok || !isObj {
			config.Set(name, sec)
			return
		}
		for _, kv := range sec {
			if prev, ok := old.Get(kv.Key); ok && isList(name, kv.Key) {
				a, _ := prev.([]any)
				b, _ := kv.Value.([]any)
				old.Set(kv.Key, append(append([]any(nil), a...), b...))
				continue
			}
			old.Set(kv.Key, kv.Value)
		}
		config.Set(name, old)
	default:
		config.Set(name, sec)
	}
}
