package client_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

// TLSConfig applies the TLS options exactly as New does and ignores the others.
func TestTLSConfig(t *testing.T) {
	ca := newCA(t, "doctor CA")
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := client.TLSConfig(client.WithCAFile(file), client.WithServerName("wazuh.example"),
		client.WithTimeout(time.Second), client.WithCredentials("wazuh", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || cfg.ServerName != "wazuh.example" || cfg.InsecureSkipVerify || cfg.MinVersion == 0 {
		t.Fatalf("config: roots %v name %q insecure %v min %x", cfg.RootCAs != nil, cfg.ServerName, cfg.InsecureSkipVerify, cfg.MinVersion)
	}
	if cfg, _ := client.TLSConfig(client.WithInsecure()); !cfg.InsecureSkipVerify {
		t.Error("WithInsecure not applied")
	}
	if _, err := client.TLSConfig(client.WithCAFile(filepath.Join(t.TempDir(), "missing.pem"))); err == nil {
		t.Error("a missing CA file must fail")
	}
}
