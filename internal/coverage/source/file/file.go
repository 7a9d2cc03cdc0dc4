// Package file is the coverage connector for inventory exports (kind
// "file"): a CSV or JSON file written by a CMDB, a spreadsheet or any tool's
// export, read with a column mapping from the config or a built-in preset
// named after the tool whose documented export it follows.
//
// A source's mapping:
//
//   - name: cmdb
//     kind: file
//     path: inventory.csv       # relative to the config file's folder
//     format: csv               # csv | json; default from the extension
//     delimiter: ";"            # CSV only; default "," ("\t" for .tsv)
//     preset: servicenow        # a built-in column mapping (see Presets)
//     columns:                  # field -> column; overrides the preset per field
//     hostname: name
//     serial: serial_number
//     mac: mac_address        # mac, ip, groups: several values split on , ; |
//     last_seen: last_seen
//     state: status
//     records: data.devices     # JSON only: the dotted path to the records' array
//     healthy: [active, online] # state values meaning healthy (case-insensitive)
//     time_format: unix         # a Go layout, unix or unix_ms; default: common forms
//     max_bytes: 1073741824     # files larger than this are refused (default 1 GiB)
//
// The fields are id, hostname, serial, mac, ip, os, groups, last_seen and
// state. Column names match case-insensitively, surrounding spaces trimmed;
// in JSON a dotted column (status.value) reaches into nested objects. A
// record with no id column gets "row N" (CSV: N is the record's line, the
// header being line 1) or "item N" (JSON, 1-based). With no state column
// every record is State "listed", Healthy true: being in the export is all
// it says. Times without a zone are UTC. Rows whose every cell is empty
// (spreadsheet padding) are skipped; a record with no identifier is kept,
// for the engine to report as unidentified.
//
// The file is read as a stream, one record at a time, and hashed as it is
// read: each record's Request is "read PATH (sha256 PREFIX)".
package file

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("file", New) }

// Config is a file source's YAML mapping.
type Config struct {
	coverage.Conn `yaml:",inline"`
	Path          string            `yaml:"path"`
	Format        string            `yaml:"format"`
	Delimiter     string            `yaml:"delimiter"`
	Preset        string            `yaml:"preset"`
	Columns       map[string]string `yaml:"columns"`
	Records       string            `yaml:"records"`
	Healthy       []string          `yaml:"healthy"`
	TimeFormat    string            `yaml:"time_format"`
	MaxBytes      int64             `yaml:"max_bytes"`
}

// DefaultMaxBytes is the largest file read when max_bytes is not set.
const DefaultMaxBytes = 1 << 30

// DefaultHealthy are the state values meaning healthy when a state column is
// mapped and healthy is not set.
var DefaultHealthy = []string{"active", "online", "healthy", "ok", "connected", "running", "true", "yes", "up", "enabled", "operational"}

// StateListed is the State of every record when no state column is mapped.
const StateListed = "listed"

// field is one Record field a column can fill.
type field int

const (
	fID field = iota
	fHostname
	fSerial
	fMAC
	fIP
	fOS
	fGroups
	fLastSeen
	fState
	numFields
)

// fieldNames are the field names of columns:, in field order.
var fieldNames = [numFields]string{"id", "hostname", "serial", "mac", "ip", "os", "groups", "last_seen", "state"}

func (f field) String() string { return fieldNames[f] }

// multi reports whether a field holds several values.
func (f field) multi() bool { return f == fMAC || f == fIP || f == fGroups }

// column is what a field is read from: candidate column names, the first
// one present wins.
type column struct {
	names    []string
	explicit bool // from columns:, so a missing one is an error
}

// Source reads one export file.
type Source struct {
	name        string
	path        string // absolute
	format      string // "csv" or "json"
	comma       rune
	jsonLines   bool // .jsonl / .ndjson
	cols        [numFields]column
	preset      string
	records     []string // JSON: path to the records' array; nil: top level
	recordsSet  bool     // records came from the config, not a preset
	stateMapped bool
	healthy     map[string]bool
	timeFormat  string
	maxBytes    int64
	now         func() time.Time
}

// New builds a file source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("file source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "file"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("file source %s: "+format, append([]any{name}, a...)...)
	}
	if keys := networkKeys(cfg.Conn); len(keys) > 0 {
		return nil, fail("file sources read a local file; remove %s and give path: the export file", strings.Join(keys, ", "))
	}
	if strings.TrimSpace(cfg.Path) == "" {
		return nil, fail("path is not set; give the export file, e.g. path: inventory.csv (relative paths are read from the config's folder)")
	}
	path, err := filepath.Abs(env.Path(cfg.Path))
	if err != nil {
		return nil, fail("path %q: %v", cfg.Path, err)
	}
	s := &Source{name: name, path: path, comma: ',', maxBytes: DefaultMaxBytes, now: env.Now}
	if s.now == nil {
		s.now = time.Now
	}
	ext := strings.ToLower(filepath.Ext(path))
	s.jsonLines = ext == ".jsonl" || ext == ".ndjson"
	switch f := strings.ToLower(strings.TrimSpace(cfg.Format)); f {
	case "csv", "json":
		s.format = f
	case "":
		switch ext {
		case ".csv", ".tsv":
			s.format = "csv"
		case ".json", ".jsonl", ".ndjson":
			s.format = "json"
		default:
			return nil, fail("cannot tell the format of %s from its extension; set format: csv or format: json", cfg.Path)
		}
	default:
		return nil, fail("format %q is not csv or json", cfg.Format)
	}
	if ext == ".tsv" {
		s.comma = '\t'
	}
	if cfg.Delimiter != "" {
		if s.format != "csv" {
			return nil, fail("delimiter applies to CSV files only; this source reads JSON")
		}
		if s.comma, err = parseDelimiter(cfg.Delimiter); err != nil {
			return nil, fail("%v", err)
		}
	}
	if err := s.mapColumns(cfg); err != nil {
		return nil, fail("%v", err)
	}
	if cfg.Records != "" {
		if s.format != "json" {
			return nil, fail("records applies to JSON files only; this source reads CSV")
		}
		if s.records, err = splitPath(cfg.Records); err != nil {
			return nil, fail("records: %v", err)
		}
		s.recordsSet = true
	}
	if err := s.healthyValues(cfg.Healthy); err != nil {
		return nil, fail("%v", err)
	}
	if err := checkTimeFormat(cfg.TimeFormat); err != nil {
		return nil, fail("%v", err)
	}
	s.timeFormat = cfg.TimeFormat
	switch {
	case cfg.MaxBytes < 0:
		return nil, fail("max_bytes %d is negative", cfg.MaxBytes)
	case cfg.MaxBytes > 0:
		s.maxBytes = cfg.MaxBytes
	}
	return s, nil
}

// networkKeys lists the connection keys a file source does not take.
func networkKeys(c coverage.Conn) []string {
	var out []string
	add := func(set bool, key string) {
		if set {
			out = append(out, key)
		}
	}
	add(c.URL != "", "url")
	add(c.User != "", "user")
	add(c.PasswordFile != "", "password_file")
	add(c.PasswordEnv != "", "password_env")
	add(c.TokenFile != "", "token_file")
	add(c.TokenEnv != "", "token_env")
	add(len(c.CA) > 0, "ca")
	add(c.Insecure, "insecure")
	add(c.Timeout != 0, "timeout")
	add(c.Proxy != "", "proxy")
	add(c.RateLimit.N != 0, "rate_limit")
	return out
}

// parseDelimiter reads delimiter: one character; "\t" and "tab" mean a tab.
func parseDelimiter(d string) (rune, error) {
	switch strings.ToLower(d) {
	case `\t`, "tab":
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(d)
	if size != len(d) || r == utf8.RuneError {
		return 0, fmt.Errorf("delimiter %q is not one character (e.g. \",\", \";\", \"|\" or \"\\t\")", d)
	}
	if r == '"' || r == '\r' || r == '\n' || r == 0xFEFF {
		return 0, fmt.Errorf("delimiter %q cannot separate CSV fields; use e.g. \",\", \";\", \"|\" or \"\\t\"", d)
	}
	return r, nil
}

// mapColumns sets the field -> column mapping from preset: and columns:.
func (s *Source) mapColumns(cfg Config) error {
	if cfg.Preset != "" {
		p, ok := presetByName(cfg.Preset)
		if !ok {
			return fmt.Errorf("unknown preset %q; the presets are %s", cfg.Preset, strings.Join(PresetNames(), ", "))
		}
		s.preset = p.Name
		for f := range numFields {
			if names := p.Columns[f.String()]; len(names) > 0 {
				s.cols[f] = column{names: names}
			}
		}
		if p.Records != "" && s.format == "json" {
			s.records, _ = splitPath(p.Records)
		}
	}
	for _, k := range slices.Sorted(mapKeys(cfg.Columns)) {
		v := strings.TrimSpace(cfg.Columns[k])
		f, ok := fieldByName(k)
		if !ok {
			return fmt.Errorf("columns: unknown field %q; the fields are %s", k, strings.Join(fieldNames[:], ", "))
		}
		if v == "" {
			return fmt.Errorf("columns: %s is empty; give the column's name as the export's header spells it", k)
		}
		s.cols[f] = column{names: []string{v}, explicit: true}
	}
	mapped := false
	for f := range numFields {
		mapped = mapped || len(s.cols[f].names) > 0
	}
	if !mapped {
		return fmt.Errorf("no columns are mapped; set preset: (one of %s) or columns: {hostname: COLUMN, serial: COLUMN, ...}", strings.Join(PresetNames(), ", "))
	}
	if len(s.cols[fHostname].names)+len(s.cols[fSerial].names)+len(s.cols[fMAC].names) == 0 {
		return errors.New("none of hostname, serial or mac is mapped, so no record could be matched to another source; map at least one in columns:")
	}
	s.stateMapped = len(s.cols[fState].names) > 0
	return nil
}

func (s *Source) healthyValues(vals []string) error {
	if len(vals) > 0 && !s.stateMapped {
		return errors.New("healthy is set but no state column is mapped; map one with columns: {state: COLUMN}")
	}
	if len(vals) == 0 {
		vals = DefaultHealthy
	}
	s.healthy = make(map[string]bool, len(vals))
	for i, v := range vals {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			return fmt.Errorf("healthy[%d] is empty", i)
		}
		s.healthy[v] = true
	}
	return nil
}

func fieldByName(name string) (field, bool) {
	i := slices.Index(fieldNames[:], strings.ToLower(strings.TrimSpace(name)))
	return field(i), i >= 0
}

// splitPath reads a dotted path such as "data.devices".
func splitPath(p string) ([]string, error) {
	parts := strings.Split(p, ".")
	for _, s := range parts {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%q has an empty part; give a dotted path such as data.devices", p)
		}
	}
	return parts, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
