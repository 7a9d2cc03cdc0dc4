package config

import (
	"strings"
	"testing"
)

func TestMaxSecurityStaleness(t *testing.T) {
	if d := Default().Database.MaxSecurityStaleness; d != 5 {
		t.Errorf("default database.max_security_staleness = %d, want 5", d)
	}
	c, err := Load(write(t, "database:\n  max_security_staleness: 12\n"))
	if err != nil || c.Database.MaxSecurityStaleness != 12 {
		t.Fatalf("load: %v %d", err, c.Database.MaxSecurityStaleness)
	}
	for _, bad := range []string{"-1", "3601"} {
		_, err := Load(write(t, "database:\n  max_security_staleness: "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "database.max_security_staleness") {
			t.Errorf("max_security_staleness %s: %v, want an error naming the key", bad, err)
		}
	}
}
