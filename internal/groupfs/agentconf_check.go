package groupfs

import (
	"fmt"
	"strings"
)

// agentSections are the sections an agent reads from agent.conf; anything
// else is refused as verify-agent-conf refuses it.
var agentSections = map[string]bool{
	"active-response": true, "agent-upgrade": true, "anti_tampering": true, "cis-cat": true, "client": true,
	"client_buffer": true, "command": true, "docker-listener": true, "fluent-forward": true, "gcp-bucket": true,
	"gcp-pubsub": true, "github": true, "labels": true, "localfile": true, "logging": true, "ms-graph": true,
	"office365": true, "open-scap": true, "osquery": true, "rootcheck": true, "sca": true, "socket": true,
	"syscheck": true, "syscollector": true, "wodle": true,
}

// filterAttrs are the attributes that select the agents of an agent_config block.
var filterAttrs = map[string]bool{"name": true, "os": true, "profile": true}

// check applies the structure rules of Wazuh's agent configuration reader.
func check(root *node) error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(root.text) != "" {
		add("(1230): Invalid element in the configuration: '%s'.", firstWord(root.text))
	}
	for _, ac := range root.kids {
		if ac.tag != "agent_config" {
			add("(1230): Invalid element in the configuration: '%s'.", ac.tag)
			continue
		}
		for _, a := range ac.attrs {
			if !filterAttrs[a.Name.Local] {
				add("(1243): Invalid attribute '%s' in the configuration: 'agent_config'.", a.Name.Local)
			}
		}
		for _, sec := range ac.kids {
			tag := strings.ToLower(sec.tag)
			if !agentSections[tag] {
				add("(1230): Invalid element in the configuration: '%s'.", sec.tag)
				continue
			}
			if tag == "wodle" && attr(sec, "name") == "" {
				add("(1232): Invalid value for element 'wodle': name attribute is missing.")
			}
			if tag == "localfile" && !hasChild(sec, "location") && !hasChild(sec, "command") &&
				!hasChild(sec, "full_command") {
				add("(1902): Missing 'location' element in 'localfile'.")
			}
			for _, opt := range sec.kids {
				if len(opt.kids) == 0 && len(opt.attrs) == 0 && strings.TrimSpace(opt.text) == "" &&
					tag != "labels" {
					add("(1235): Invalid value for element '%s': ''.", opt.tag)
				}
			}
		}
	}
	if len(errs) > 0 {
		return &ConfigError{Msg: strings.Join(errs, " ")}
	}
	return nil
}

func attr(n *node, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func hasChild(n *node, tag string) bool {
	for _, k := range n.kids {
		if strings.EqualFold(k.tag, tag) {
			return true
		}
	}
	return false
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
