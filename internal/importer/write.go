package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
	"github.com/muster-project/muster/internal/sqlstore"
)

// ConfigName is the muster configuration file the import writes.
const ConfigName = "muster.yaml"

// Run reads every source, then (unless DryRun) writes the data directory.
func Run(ctx context.Context, o Options) (*Plan, error) {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if o.DataDir == "" && !o.DryRun {
		return nil, errors.New("--data-dir is required")
	}
	if !o.DryRun {
		if err := checkTarget(o.DataDir, o.Force); err != nil {
			return nil, err
		}
	}
	p, err := Read(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		fmt.Fprintln(out, "dry run: nothing written; this would be imported:")
		p.Report(out)
		return p, nil
	}
	target, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(target), filepath.Base(target)+".tmp-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(stage)
		}
	}()
	if err := os.Chmod(stage, 0o700); err != nil {
		return nil, err
	}
	if err := p.write(ctx, o, stage, target); err != nil {
		return nil, err
	}
	if err := swapIn(stage, target); err != nil {
		return nil, err
	}
	ok = true
	fmt.Fprintf(out, "imported into %s\n", target)
	p.Report(out)
	fmt.Fprintf(out, "start muster with:\n  muster server --config %s --data-dir %s\n",
		filepath.Join(target, ConfigName), target)
	return p, nil
}

func checkTarget(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 && !force {
		return fmt.Errorf("%s is not empty: refusing to import over it (use --force to replace it)", dir)
	}
	return nil
}

// swapIn renames the staged directory into place, replacing an old target.
func swapIn(stage, target string) error {
	old := ""
	if _, err := os.Stat(target); err == nil {
		old = target + ".old-" + filepath.Base(stage)[len(filepath.Base(target))+5:]
		if err := os.Rename(target, old); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, target); err != nil {
		if old != "" {
			os.Rename(old, target)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

func (p *Plan) write(ctx context.Context, o Options, stage, target string) error {
	for _, d := range []string{"logs", "ssl", "etc/shared", "var/multigroups"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o700); err != nil {
			return err
		}
	}
	if o.Database.Driver == "postgres" {
		if err := p.writePostgres(ctx, o.Database.DSN, o.Force); err != nil {
			return err
		}
	} else {
		store, err := manager.OpenStore(ctx, config.Database{Driver: "sqlite"}, stage)
		if err != nil {
			return fmt.Errorf("open the staged store: %w", err)
		}
		if err := p.writeStore(ctx, store); err != nil {
			store.Close()
			return err
		}
		if err := store.Close(); err != nil {
			return err
		}
	}
	return p.writeFiles(stage, target, o.Database)
}

// writeStore writes the security objects, the groups and the agents.
func (p *Plan) writeStore(ctx context.Context, store *sqlstore.Store) error {
	if p.RBAC != nil || p.Security != nil || p.Signing != "" {
		err := store.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			if r := p.RBAC; r != nil {
				for _, u := range r.Users {
					if _, err := tx.InsertUser(u); err != nil {
						return fmt.Errorf("user %d: %w", u.ID, err)
					}
				}
				for _, x := range r.Roles {
					if _, err := tx.InsertRole(x); err != nil {
						return fmt.Errorf("role %d: %w", x.ID, err)
					}
				}
				for _, x := range r.Policies {
					if _, err := tx.InsertPolicy(x); err != nil {
						return fmt.Errorf("policy %d: %w", x.ID, err)
					}
				}
				for _, x := range r.Rules {
					if _, err := tx.InsertRule(x); err != nil {
						return fmt.Errorf("rule %d: %w", x.ID, err)
					}
				}
				for _, set := range []struct {
					table string
					links []core.Link
				}{{core.UserRolesTable, r.UserRoles}, {core.RolePoliciesTable, r.RolePolicies}, {core.RoleRulesTable, r.RoleRules}} {
					for _, l := range set.links {
						if err := tx.InsertLink(set.table, l); err != nil {
							return fmt.Errorf("%s link %d: %w", set.table, l.ID, err)
						}
					}
				}
			}
			if p.Security != nil {
				if err := tx.SetConfig(*p.Security); err != nil {
					return err
				}
			}
			if p.Signing != "" {
				if err := tx.SetSigningKey(p.Signing); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("write the security objects: %w", err)
		}
	}
	if err := store.InitAgents(ctx); err != nil {
		return err
	}
	if len(p.Groups) > 0 {
		if err := store.CreateGroups(ctx, p.Groups); err != nil {
			return fmt.Errorf("write the groups: %w", err)
		}
	}
	if len(p.Agents) > 0 {
		if err := store.PutAgents(ctx, p.Agents); err != nil {
			return fmt.Errorf("write the agents: %w", err)
		}
	}
	return nil
}

// writeFiles writes the data directory's files and muster.yaml.
func (p *Plan) writeFiles(stage, target string, db config.Database) error {
	if dir, ok := p.Sources["shared"]; ok {
		if err := copyTree(dir, filepath.Join(stage, "etc", "shared")); err != nil {
			return err
		}
	}
	if dir, ok := p.Sources["multigroups"]; ok {
		if err := copyTree(dir, filepath.Join(stage, "var", "multigroups")); err != nil {
			return err
		}
	}
	for _, n := range p.SSLFiles {
		if err := copyFile(filepath.Join(p.Sources["ssl"], n), filepath.Join(stage, "ssl", n), 0o600); err != nil {
			return err
		}
	}
	if dir, ok := p.Sources["etc"]; ok {
		// Enrollment certificate and password: agents that check the
		// manager's certificate, or enroll with the password, keep working.
		for _, n := range []string{"sslmanager.cert", "sslmanager.key", "authd.pass"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				if err := copyFile(filepath.Join(dir, n), filepath.Join(stage, "etc", n), 0o600); err != nil {
					return err
				}
			}
		}
	}
	if path, ok := p.Sources["client.keys"]; ok {
		// The file as Wazuh left it, removed lines included; muster
		// rebuilds it from the store at start.
		if err := copyFile(path, filepath.Join(stage, "etc", "client.keys"), 0o600); err != nil {
			return err
		}
	}
	cfg := p.configFile(target, db)
	cfgPath := filepath.Join(stage, ConfigName)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return err
	}
	if _, err := config.Load(cfgPath); err != nil {
		return fmt.Errorf("the written %s does not load: %w", ConfigName, err)
	}
	return syncDir(stage)
}

// configFile is muster.yaml: api.yaml under api:, the ossec.conf settings.
func (p *Plan) configFile(target string, db config.Database) []byte {
	var b strings.Builder
	b.WriteString("# Written by muster import")
	if src, ok := p.Sources["api.yaml"]; ok {
		b.WriteString(" from " + src)
	}
	b.WriteString(".\n")
	if p.API != nil {
		b.WriteString("api:\n")
		b.Write(indent(p.API))
		if !strings.HasSuffix(string(p.API), "\n") {
			b.WriteString("\n")
		}
	}
	if m := p.Manager; m != nil {
		if m.DisconnectionTime > 0 || m.NodeName != "" {
			b.WriteString("manager:\n")
			if m.NodeName != "" {
				fmt.Fprintf(&b, "  node_name: %q\n", m.NodeName)
			}
			if m.DisconnectionTime > 0 {
				fmt.Fprintf(&b, "  agents_disconnection_time: %d\n", m.DisconnectionTime)
			}
		}
		if m.RemotePort > 0 || m.RemoteProtocol != "" {
			b.WriteString("remote:\n")
			if m.RemotePort > 0 {
				fmt.Fprintf(&b, "  port: %d\n", m.RemotePort)
			}
			if m.RemoteProtocol != "" {
				fmt.Fprintf(&b, "  protocol: %q\n", m.RemoteProtocol)
			}
		}
		if m.AuthPort > 0 || m.AuthDisabled {
			b.WriteString("auth:\n")
			if m.AuthPort > 0 {
				fmt.Fprintf(&b, "  port: %d\n", m.AuthPort)
			}
			if m.AuthDisabled {
				b.WriteString("  disabled: true\n")
			}
		}
	}
	if db.Driver == "postgres" { // the store the import filled
		fmt.Fprintf(&b, "database:\n  driver: postgres\n  dsn: %q\n", db.DSN)
	}
	if !strings.Contains(b.String(), ":\n") {
		b.WriteString("{}\n") // nothing imported: Wazuh's defaults
	}
	return []byte(b.String())
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, to, 0o640)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func loadConfig(path string) (config.Config, error) { return config.Load(path) }
