package coverage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultWindow is "seen alive recently" when the config sets no window.
const DefaultWindow = 24 * time.Hour

// MaxConfigBytes bounds the config file: it is a policy, not an inventory.
const MaxConfigBytes = 4 << 20

// Config is the coverage policy file (docs/coverage.md, "Config reference").
type Config struct {
	Window  Duration            `yaml:"window"`
	Sources []yaml.Node         `yaml:"sources"`
	Require []RequirementConfig `yaml:"require"`
	History *HistoryConfig      `yaml:"history"`
	Max     map[string]string   `yaml:"max"`
	Match   MatchConfig         `yaml:"match"`
}

// RequirementConfig is one `require` entry: every device a scope source
// knows (and the filters keep) must have a healthy record in each must_have
// source.
type RequirementConfig struct {
	Scope    []string `yaml:"scope"`
	MustHave []string `yaml:"must_have"`
	OS       []string `yaml:"os"`     // keep devices whose OS contains one of these (case-insensitive)
	Groups   []string `yaml:"groups"` // keep devices in one of these groups (case-insensitive)
}

// HistoryConfig says where runs are recorded.
type HistoryConfig struct {
	Path string `yaml:"path"` // SQLite file, relative to the config's folder
	DSN  string `yaml:"dsn"`  // postgres://...
	Keep int    `yaml:"keep"` // runs kept; 0 keeps every run
}

// MatchConfig tunes how records are joined (docs/coverage.md, "Matching").
type MatchConfig struct {
	// Hostname is "short" (default: the name before the first dot), "fqdn"
	// (the whole name) or "off" (never join by host name).
	Hostname string `yaml:"hostname"`
	// Domains, when set, are the only suffixes stripped in short mode, so
	// that "web.eu.corp" and "web.us.corp" stay two machines.
	Domains       []string `yaml:"domains"`
	IgnoreMACs    []string `yaml:"ignore_macs"`
	IgnoreSerials []string `yaml:"ignore_serials"`
	IgnoreNames   []string `yaml:"ignore_hostnames"`
}

// Plan is a loaded config: its sources built, its requirements checked.
type Plan struct {
	Path         string
	Window       time.Duration
	Sources      []PlannedSource
	Requirements []Requirement
	History      *HistoryConfig // nil: runs are not recorded
	Limits       Thresholds
	Match        Matcher
}

// PlannedSource is one configured source.
type PlannedSource struct {
	Name string
	Kind string
	Line int
	Source
}

// Requirement is a checked RequirementConfig.
type Requirement struct {
	Index    int
	Scope    []string
	MustHave []string
	OS       []string
	Groups   []string
}

// Filter writes the requirement's filters out ("" when it has none).
func (r Requirement) Filter() string {
	var parts []string
	if len(r.OS) > 0 {
		parts = append(parts, "os: "+strings.Join(r.OS, " | "))
	}
	if len(r.Groups) > 0 {
		parts = append(parts, "groups: "+strings.Join(r.Groups, " | "))
	}
	return strings.Join(parts, "; ")
}

// LoadFile reads and checks a config file and builds its sources.
func LoadFile(path string, env Env) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config %s does not exist; write one (docs/coverage.md has a complete example) and pass it with --config", path)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("config %s is larger than %d MiB: it should hold a policy, not an inventory", path, MaxConfigBytes>>20)
	}
	if env.Dir == "" {
		env.Dir = filepath.Dir(path)
	}
	p, err := Load(data, env)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	p.Path = path
	return p, nil
}

// Load checks a config document and builds its sources with their factories.
func Load(data []byte, env Env) (*Plan, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cleanYAMLError(err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the file is empty; it needs at least sources: and require:")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the config must be a mapping with sources:, require:, window: ...", root.Line)
	}
	var cfg Config
	if err := DecodeStrict(root, &cfg); err != nil {
		return nil, err
	}
	p := &Plan{Window: DefaultWindow, History: cfg.History}
	if cfg.Window > 0 {
		p.Window = time.Duration(cfg.Window)
	}
	env.Window = p.Window
	if err := p.buildSources(cfg.Sources, env); err != nil {
		return nil, err
	}
	if err := p.buildRequirements(cfg.Require); err != nil {
		return nil, err
	}
	if h := cfg.History; h != nil {
		if (h.Path == "") == (h.DSN == "") {
			return nil, errors.New("history: give path (a SQLite file) or dsn (postgres://...), one of them")
		}
		if h.Keep < 0 {
			return nil, errors.New("history: keep must be 0 (keep every run) or more")
		}
		if h.Path != "" {
			h.Path = env.Path(h.Path)
		}
	}
	p.Limits = DefaultThresholds()
	for kind, v := range cfg.Max {
		if err := p.Limits.Set(kind + "=" + v); err != nil {
			return nil, fmt.Errorf("max: %w", err)
		}
	}
	m, err := newMatcher(cfg.Match)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	p.Match = m
	return p, nil
}

func (p *Plan) buildSources(nodes []yaml.Node, env Env) error {
	if len(nodes) == 0 {
		return errors.New("sources: the config lists no source; add at least one (kind: wazuh, meshcentral, zabbix, file, ...)")
	}
	seen := map[string]int{}
	for i := range nodes {
		n := &nodes[i]
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: sources[%d] must be a mapping with name: and kind:", n.Line, i)
		}
		var head struct {
			Name string `yaml:"name"`
			Kind string `yaml:"kind"`
		}
		if err := n.Decode(&head); err != nil {
			return fmt.Errorf("line %d: sources[%d]: %w", n.Line, i, cleanYAMLError(err))
		}
		if head.Kind == "" {
			return fmt.Errorf("line %d: sources[%d] has no kind; muster knows %s", n.Line, i, strings.Join(Kinds(), ", "))
		}
		if head.Name == "" {
			return fmt.Errorf("line %d: sources[%d] (kind %s) has no name; findings and history refer to sources by name", n.Line, i, head.Kind)
		}
		if !validName(head.Name) {
			return fmt.Errorf("line %d: source name %q: use letters, digits, '-', '_' or '.'", n.Line, head.Name)
		}
		if prev, dup := seen[head.Name]; dup {
			return fmt.Errorf("line %d: source name %q is already used on line %d", n.Line, head.Name, prev)
		}
		seen[head.Name] = n.Line
		f, err := factory(head.Kind)
		if err != nil {
			return fmt.Errorf("line %d: source %s: %w", n.Line, head.Name, err)
		}
		src, err := f(n, env)
		if err != nil {
			p.Close()
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		p.Sources = append(p.Sources, PlannedSource{Name: head.Name, Kind: head.Kind, Line: n.Line, Source: src})
	}
	return nil
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != "" && len(s) <= 64
}

func (p *Plan) buildRequirements(reqs []RequirementConfig) error {
	names := map[string]bool{}
	for _, s := range p.Sources {
		names[s.Name] = true
	}
	known := func(list []string) error {
		for _, n := range list {
			if !names[n] {
				return fmt.Errorf("%q is not a configured source (sources: %s)", n, strings.Join(slices.Sorted(mapKeys(names)), ", "))
			}
		}
		return nil
	}
	for i, r := range reqs {
		if len(r.Scope) == 0 || len(r.MustHave) == 0 {
			return fmt.Errorf("require[%d]: give scope: [sources whose devices count] and must_have: [sources each of them needs]", i)
		}
		if err := known(r.Scope); err != nil {
			return fmt.Errorf("require[%d].scope: %w", i, err)
		}
		if err := known(r.MustHave); err != nil {
			return fmt.Errorf("require[%d].must_have: %w", i, err)
		}
		p.Requirements = append(p.Requirements, Requirement{Index: i, Scope: dedupe(r.Scope), MustHave: dedupe(r.MustHave),
			OS: lowerAll(r.OS), Groups: lowerAll(r.Groups)})
	}
	return nil
}

// Close ends the sources that hold a connection.
func (p *Plan) Close() error {
	var errs []error
	for _, s := range p.Sources {
		if c, ok := s.Source.(Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("source %s: %w", s.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func lowerAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LoadHistoryConfig reads only the history: of a config file, without
// building its sources (`muster coverage history` needs no credentials).
func LoadHistoryConfig(path string) (*HistoryConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, cleanYAMLError(err))
	}
	var cfg Config
	if len(doc.Content) == 0 || DecodeStrict(doc.Content[0], &cfg) != nil || cfg.History == nil {
		return nil, fmt.Errorf("config %s has no history: {path: FILE} (or the config is not valid: run muster coverage --config %s first)", path, path)
	}
	h := cfg.History
	if h.Path != "" {
		h.Path = Env{Dir: filepath.Dir(path)}.Path(h.Path)
	}
	return h, nil
}
