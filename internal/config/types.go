package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bool is a boolean that also accepts yes/no in any case, as Wazuh does.
type Bool bool

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *Bool) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a boolean", n.Line)
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes":
		*b = true
	case "false", "no":
		*b = false
	default:
		return fmt.Errorf("line %d: %q is not a boolean", n.Line, n.Value)
	}
	return nil
}

// Hosts is api.yaml's host: a list of addresses, or a single one.
type Hosts []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (h *Hosts) UnmarshalYAML(n *yaml.Node) error {
	return stringList((*[]string)(h), n)
}

// Strings is a list of strings that may also be written as one string.
type Strings []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	return stringList((*[]string)(s), n)
}

func stringList(dst *[]string, n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*dst = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		if err := n.Decode(&out); err != nil {
			return err
		}
		*dst = out
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}
