package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/importer"
)

// importCmd is `muster import`.
func importCmd() *cobra.Command {
	var (
		o          importer.Options
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "import --from /var/ossec --data-dir DIR",
		Short: "Move a Wazuh manager's state (agents, keys, groups, API users and RBAC, settings) into muster",
		Long: `Read a Wazuh manager's files and write a muster data directory from them.

--from is a Wazuh install tree (/var/ossec) or a copy of its files in the same
layout; each source can also be named on its own for a partial move. Every
source is read and checked before anything is written; the data directory is
built beside the target and renamed into place only when complete. A non-empty
target is refused unless --force. See docs/migrating.md.

--config names the configuration file the servers will run with: when its
database is PostgreSQL, the agents, groups, users and RBAC go into that
database (the files still go to --data-dir), so that several nodes start on
the imported fleet at once. The database is filled in one step too: written
into a new schema and moved into place in one transaction, or left untouched.
A database that already holds muster's tables is refused unless --force
(stop every node first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			if configPath != "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return err
				}
				switch {
				case cfg.Database.Driver == "postgres":
					o.Database = cfg.Database
				case cfg.Database.DSN != "":
					return errors.New(configPath + ": database.dsn names an SQLite file: the import writes the data directory's own; leave dsn empty and pass --data-dir")
				}
			}
			if o.Database.Driver == "postgres" {
				fmt.Fprintln(o.Out, "importing into the PostgreSQL database of", configPath)
			}
			_, err := importer.Run(cmd.Context(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "Wazuh install tree or a copy of it (/var/ossec layout)")
	f.StringVar(&o.DataDir, "data-dir", "", "muster data directory to create")
	f.StringVar(&configPath, "config", "", "the servers' configuration file: import into the PostgreSQL database it names")
	f.BoolVar(&o.Force, "force", false, "replace a non-empty data directory (and, with --config, a database holding muster's tables)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would be imported and write nothing")
	f.StringVar(&o.ClientKeys, "client-keys", "", "etc/client.keys")
	f.StringVar(&o.GlobalDB, "global-db", "", "queue/db/global.db")
	f.StringVar(&o.RBACDB, "rbac-db", "", "api/configuration/security/rbac.db")
	f.StringVar(&o.SecurityYAML, "security-yaml", "", "api/configuration/security/security.yaml")
	f.StringVar(&o.APIYAML, "api-yaml", "", "api/configuration/api.yaml")
	f.StringVar(&o.KeysDir, "keys-dir", "", "folder of the JWT keys private_key.pem and public_key.pem")
	f.StringVar(&o.SSLDir, "ssl-dir", "", "folder of the API's server.crt and server.key")
	f.StringVar(&o.SharedDir, "shared-dir", "", "etc/shared (group folders)")
	f.StringVar(&o.MultiDir, "multigroups-dir", "", "var/multigroups")
	f.StringVar(&o.OssecConf, "ossec-conf", "", "etc/ossec.conf")
	return cmd
}
