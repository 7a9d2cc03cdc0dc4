package config

import (
	"net/url"
)

// Cluster configures how nodes sharing one PostgreSQL store form a Wazuh
// cluster (the /cluster API, one master for the fleet-wide work). On
// SQLite a node is always standalone and these settings are unused.
type Cluster struct {
	// Disabled keeps a PostgreSQL node out of the cluster: it answers the
	// cluster API as a standalone manager whose cluster is disabled, and
	// runs the disconnection sweep itself. Leave it off on every node of
	// a fleet, or on none.
	Disabled Bool `yaml:"disabled"`
	// Address is the node's API as the other nodes reach it, a base URL
	// such as https://10.0.0.2:55000. Empty: the API's scheme and port on
	// the host's first non-loopback address.
	Address string `yaml:"address"`
	// Key signs node-to-node calls. Empty: a random key the first node
	// writes into the store. Set it (the same on every node, at least 32
	// characters) to keep it out of the database.
	Key string `yaml:"key"`
}

// Clustered reports whether the node joins the cluster of its store.
func (c Config) Clustered() bool { return c.Database.Driver == "postgres" && !bool(c.Cluster.Disabled) }

func (c *Config) validateCluster(check func(bool, string, ...any)) {
	cl := c.Cluster
	if cl.Address != "" {
		u, err := url.Parse(cl.Address)
		check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && (u.Path == "" || u.Path == "/"),
			"cluster.address: %q is not a base URL such as https://10.0.0.2:55000", cl.Address)
	}
	check(cl.Key == "" || len(cl.Key) >= 32, "cluster.key: must be at least 32 characters")
}
