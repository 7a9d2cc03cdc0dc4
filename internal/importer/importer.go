// Package importer moves a Wazuh manager's state into a muster data
// directory: agents and their keys, groups and their files, API users, roles,
// policies, rules and their links, the security configuration and signing
// key, TLS files and the API and manager settings. Everything is read and
// checked first, then written into a staged directory that is renamed into
// place only when all of it has been written.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"go.yaml.in/yaml/v3"
)

// Options name the sources and the target. A source left empty is looked
// for under From in the /var/ossec layout; a missing optional file is skipped.
type Options struct {
	From         string
	ClientKeys   string
	GlobalDB     string
	RBACDB       string
	SecurityYAML string
	APIYAML      string
	KeysDir      string // private_key.pem, public_key.pem
	SSLDir       string // server.crt, server.key (and ca.crt)
	SharedDir    string // etc/shared
	MultiDir     string // var/multigroups
	OssecConf    string

	DataDir string
	// Database is the store to import into: the data directory's SQLite
	// file when empty, or the PostgreSQL database a server's config names
	// (muster import --config), which the import fills in one step.
	Database config.Database
	Force    bool
	DryRun   bool
	Out      io.Writer
	// Now stamps agents created from client.keys alone (default time.Now).
	Now func() time.Time
}

// Plan is what was read, ready to write, and what was left out.
type Plan struct {
	Sources  map[string]string // kind → file used
	RBAC     *RBAC
	Security *core.SecurityConfig
	Signing  string
	Agents   []core.Agent
	Groups   []string
	Keys     []keyLine
	Removed  []keyLine
	API      []byte // api.yaml as it was
	Manager  *ossecSettings
	SSLFiles []string
	Skipped  []string
	counts   map[string]int
}

func (p *Plan) skip(kind, why string) {
	p.Skipped = append(p.Skipped, kind+": "+why)
}

func (o *Options) resolve() map[string]string {
	src := map[string]string{}
	pick := func(kind, given, rel string) {
		if given != "" {
			src[kind] = given
			return
		}
		if o.From == "" {
			return
		}
		path := filepath.Join(o.From, rel)
		if _, err := os.Stat(path); err == nil {
			src[kind] = path
		}
	}
	pick("client.keys", o.ClientKeys, "etc/client.keys")
	pick("global.db", o.GlobalDB, "queue/db/global.db")
	pick("rbac.db", o.RBACDB, "api/configuration/security/rbac.db")
	pick("api.yaml", o.APIYAML, "api/configuration/api.yaml")
	pick("keys", o.KeysDir, "api/configuration/security")
	pick("ssl", o.SSLDir, "api/configuration/ssl")
	pick("shared", o.SharedDir, "etc/shared")
	pick("multigroups", o.MultiDir, "var/multigroups")
	pick("ossec.conf", o.OssecConf, "etc/ossec.conf")
	for _, n := range []string{"sslmanager.cert", "authd.pass"} {
		if _, ok := src["etc"]; !ok && o.From != "" {
			if _, err := os.Stat(filepath.Join(o.From, "etc", n)); err == nil {
				src["etc"] = filepath.Join(o.From, "etc")
			}
		}
	}
	if o.SecurityYAML != "" {
		src["security.yaml"] = o.SecurityYAML
	} else if d, ok := src["keys"]; ok {
		if _, err := os.Stat(filepath.Join(d, "security.yaml")); err == nil {
			src["security.yaml"] = filepath.Join(d, "security.yaml")
		}
	} else if d, ok := src["rbac.db"]; ok {
		if _, err := os.Stat(filepath.Join(filepath.Dir(d), "security.yaml")); err == nil {
			src["security.yaml"] = filepath.Join(filepath.Dir(d), "security.yaml")
		}
	}
	return src
}

// Read loads and checks every source; it writes nothing.
func Read(ctx context.Context, o Options) (*Plan, error) {
	p := &Plan{Sources: o.resolve()}
	if len(p.Sources) == 0 {
		return nil, errors.New("nothing to import: give --from or at least one source file")
	}
	src := p.Sources
	var err error
	if path, ok := src["rbac.db"]; ok {
		if p.RBAC, err = readRBAC(ctx, path, p); err != nil {
			return nil, err
		}
	}
	if path, ok := src["security.yaml"]; ok {
		if p.Security, err = readSecurityYAML(path); err != nil {
			return nil, err
		}
	}
	if dir, ok := src["keys"]; ok {
		path := filepath.Join(dir, "private_key.pem")
		if b, err := os.ReadFile(path); err == nil {
			if err := checkSigningKey(b); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			p.Signing = string(b)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		} else {
			p.skip("signing key", path+": absent; muster makes a new key, tokens of the old manager stop working")
		}
	}
	if path, ok := src["global.db"]; ok {
		if p.Agents, p.Groups, err = readGlobalDB(ctx, path, p); err != nil {
			return nil, err
		}
	}
	if path, ok := src["client.keys"]; ok {
		keys, err := readClientKeys(path)
		if err != nil {
			return nil, err
		}
		if err := p.mergeKeys(path, keys, o.now()); err != nil {
			return nil, err
		}
	}
	if path, ok := src["api.yaml"]; ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var probe config.Config
		full := append([]byte("api:\n"), indent(b)...)
		probe = config.Default()
		dec := yaml.NewDecoder(strings.NewReader(string(full)))
		dec.KnownFields(true)
		if err := dec.Decode(&probe); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := probe.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		p.API = b
	}
	if path, ok := src["ossec.conf"]; ok {
		if p.Manager, err = readOssecConf(path); err != nil {
			return nil, err
		}
	}
	if dir, ok := src["ssl"]; ok {
		for _, n := range []string{"server.crt", "server.key", "ca.crt"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				p.SSLFiles = append(p.SSLFiles, n)
			}
		}
	}
	if dir, ok := src["etc"]; ok {
		for _, n := range []string{"sslmanager.cert", "sslmanager.key", "authd.pass"} {
			if f, err := os.Open(filepath.Join(dir, n)); err == nil {
				f.Close()
			} else if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	if dir, ok := src["shared"]; ok {
		if err := p.checkShared(dir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (o Options) now() int64 {
	if o.Now != nil {
		return o.Now().Unix()
	}
	return time.Now().Unix()
}

// mergeKeys checks client.keys against global.db, or makes agents from it.
func (p *Plan) mergeKeys(path string, keys []keyLine, now int64) error {
	byID := make(map[int]*core.Agent, len(p.Agents))
	for i := range p.Agents {
		byID[p.Agents[i].ID] = &p.Agents[i]
	}
	haveDB := p.Agents != nil || p.Sources["global.db"] != ""
	inKeys := make(map[int]bool, len(keys))
	for _, k := range keys {
		if k.Removed {
			p.Removed = append(p.Removed, k)
			if a, ok := byID[k.ID]; ok && a.Name == strings.TrimPrefix(k.Name, "!") {
				return fmt.Errorf("%s line %d: agent %s is marked removed but global.db still has it", path, k.Line,
					core.FormatAgentID(k.ID))
			}
			p.skip("agent", fmt.Sprintf("%s line %d: agent %s (%s) was removed in Wazuh", path, k.Line,
				core.FormatAgentID(k.ID), strings.TrimPrefix(k.Name, "!")))
			continue
		}
		inKeys[k.ID] = true
		p.Keys = append(p.Keys, k)
		if !haveDB {
			p.Agents = append(p.Agents, core.Agent{ID: k.ID, Name: k.Name, RegisterIP: core.Some(k.IP), Key: k.Key,
				NodeName: core.Some("unknown"), DateAdd: now, Groups: []string{core.DefaultGroup},
				Status: core.AgentNeverConnected, GroupConfigStatus: core.ConfigNotSynced})
			continue
		}
		a, ok := byID[k.ID]
		switch {
		case !ok:
			return fmt.Errorf("%s line %d: agent %s (%s) is not in global.db", path, k.Line, core.FormatAgentID(k.ID), k.Name)
		case a.Name != k.Name:
			return fmt.Errorf("%s line %d: agent %s is %q here but %q in global.db", path, k.Line,
				core.FormatAgentID(k.ID), k.Name, a.Name)
		case !strings.EqualFold(a.Key, k.Key):
			return fmt.Errorf("%s line %d: agent %s: key differs from global.db's internal_key", path, k.Line,
				core.FormatAgentID(k.ID))
		case a.RegisterIP.Valid && !strings.EqualFold(a.RegisterIP.V, k.IP):
			return fmt.Errorf("%s line %d: agent %s: registration IP %s differs from global.db's %s", path, k.Line,
				core.FormatAgentID(k.ID), k.IP, a.RegisterIP.V)
		}
		if !a.RegisterIP.Valid {
			a.RegisterIP = core.Some(k.IP)
		}
	}
	if haveDB {
		for _, a := range p.Agents {
			if a.ID != 0 && !inKeys[a.ID] {
				return fmt.Errorf("global.db agent row id=%d (%s): no line in %s", a.ID, a.Name, path)
			}
		}
	}
	return nil
}

func (p *Plan) checkShared(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, g := range p.Groups {
		known[g] = true
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if !known[e.Name()] {
			p.Groups = append(p.Groups, e.Name())
			known[e.Name()] = true
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			if _, err := os.ReadFile(filepath.Join(dir, e.Name(), f.Name())); err != nil && !f.IsDir() {
				return err
			}
		}
	}
	return nil
}

func indent(b []byte) []byte {
	var out []byte
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			out = append(out, line...)
			continue
		}
		out = append(out, "  "+line...)
	}
	return out
}

// Counts returns how many objects of each kind the plan holds.
func (p *Plan) Counts() map[string]int {
	c := map[string]int{}
	if p.RBAC != nil {
		c["users"], c["roles"], c["policies"], c["rules"] = len(p.RBAC.Users), len(p.RBAC.Roles),
			len(p.RBAC.Policies), len(p.RBAC.Rules)
		c["user-role links"], c["role-policy links"], c["role-rule links"] = len(p.RBAC.UserRoles),
			len(p.RBAC.RolePolicies), len(p.RBAC.RoleRules)
	}
	c["agents"] = len(p.Agents)
	c["groups"] = len(p.Groups)
	c["removed agents"] = len(p.Removed)
	return c
}

// Report writes the counts and the skipped items.
func (p *Plan) Report(w io.Writer) {
	var kinds []string
	for k := range p.Sources {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintln(w, "sources:")
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-12s %s\n", k, p.Sources[k])
	}
	c := p.Counts()
	fmt.Fprintln(w, "objects:")
	for _, k := range []string{"users", "roles", "policies", "rules", "user-role links", "role-policy links",
		"role-rule links", "agents", "groups", "removed agents"} {
		fmt.Fprintf(w, "  %-18s %d\n", k, c[k])
	}
	if p.Security != nil {
		fmt.Fprintf(w, "  security config    auth_token_exp_timeout=%d rbac_mode=%s\n", p.Security.AuthTokenExpTimeout,
			p.Security.RBACMode)
	}
	if p.Signing != "" {
		fmt.Fprintln(w, "  signing key        kept (tokens of the old manager stay valid)")
	}
	if p.API != nil {
		fmt.Fprintln(w, "  api.yaml           kept as the api: section")
	}
	if p.Manager != nil {
		fmt.Fprintf(w, "  manager settings   %s\n", p.Manager.summary())
	}
	if len(p.SSLFiles) > 0 {
		fmt.Fprintf(w, "  TLS files          %s\n", strings.Join(p.SSLFiles, ", "))
	}
	fmt.Fprintf(w, "skipped: %d\n", len(p.Skipped))
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "  %s\n", s)
	}
}
