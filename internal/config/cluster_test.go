package config

import (
	"strings"
	"testing"
)

func TestClusterValidation(t *testing.T) {
	for _, c := range []struct {
		address, key, err string
	}{
		{"", "", ""},
		{"https://10.0.0.2:55000", strings.Repeat("k", 32), ""},
		{"http://node2:55000/", "", ""},
		{"10.0.0.2:55000", "", "cluster.address"},
		{"https://10.0.0.2:55000/api", "", "cluster.address"},
		{"ftp://10.0.0.2", "", "cluster.address"},
		{"", "short", "cluster.key"},
	} {
		cfg := Default()
		cfg.Cluster.Address, cfg.Cluster.Key = c.address, c.key
		err := cfg.Validate()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("address %q key %q: %v, want %q", c.address, c.key, err, c.err)
		}
	}
	cfg := Default()
	if cfg.Clustered() {
		t.Fatal("SQLite is clustered")
	}
	cfg.Database.Driver = "postgres"
	if !cfg.Clustered() {
		t.Fatal("PostgreSQL is not clustered")
	}
}
