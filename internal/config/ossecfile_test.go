package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoredOssecConfLayersOverBase(t *testing.T) {
	dir := t.TempDir()
	base := Default()
	base.Remote.Port, base.Auth.Port = 0, 0
	conf := "<ossec_config>\n  <remote>\n    <connection>secure</connection>\n    <protocol>udp,tcp</protocol>\n" +
		"    <queue_size>5</queue_size>\n  </remote>\n  <alerts><log_alert_level>3</log_alert_level></alerts>\n</ossec_config>\n" +
		"<ossec_config><auth><disabled>yes</disabled></auth></ossec_config>\n"
	if err := WriteStoredOssecConf(dir, []byte(conf)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, StoredOssecConf))
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v %v", err, st)
	}
	cfg, f, err := Layered(base, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Set by the file; kept from the base where the file is silent.
	if !bool(cfg.Auth.Disabled) || strings.Join(cfg.Remote.Protocol, ",") != "udp,tcp" || cfg.Remote.Port != 0 ||
		cfg.Auth.Port != 0 || cfg.Manager.AgentsDisconnectionTime != 600 || strings.Join(base.Remote.Protocol, ",") != "tcp" {
		t.Fatalf("layered: %+v %+v", cfg.Remote, cfg.Auth)
	}
	out := cfg.OssecConfStored(false, f)
	for _, want := range []string{"<protocol>udp,tcp</protocol>", "<queue_size>5</queue_size>",
		"<alerts><log_alert_level>3</log_alert_level></alerts>", "<disabled>yes</disabled>"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %s:\n%s", want, out)
		}
	}
	if _, err := ParseOssecConf([]byte(out)); err != nil {
		t.Fatalf("the rendering does not parse: %v", err)
	}
}

func TestOssecConfErrors(t *testing.T) {
	for body, want := range map[string]string{
		"<ossec_config><global>": "(1226): Error reading XML file 'etc/ossec.conf'",
		"<other/>":               "(1230): Invalid element in the configuration: 'other'.",
		"<ossec_config><remote><port>1</port></remote></ossec_config>":                                           "(1201): No remote connection configured.",
		"<ossec_config><auth><force><enabled>maybe</enabled></force></auth></ossec_config>":                      "(1235): Invalid value for element 'enabled': maybe.",
		"<ossec_config><remote><connection>secure</connection><local_ip>nope</local_ip></remote></ossec_config>": "(1237): Invalid ip address: 'nope'.",
	} {
		f, err := ParseOssecConf([]byte(body))
		if err == nil {
			_, err = f.Apply(Default())
		}
		var oe *OssecError
		if !errors.As(err, &oe) || !strings.HasPrefix(oe.Messages[0], want) || oe.Messages[len(oe.Messages)-1] != configErr {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}

// FuzzParseOssecConf: an uploaded ossec.conf never panics the reader, the
// readers or the rendering, and what muster renders from an accepted file
// parses again.
func FuzzParseOssecConf(f *testing.F) {
	f.Add([]byte("<ossec_config><global><agents_disconnection_time>10m</agents_disconnection_time></global></ossec_config>"))
	f.Add([]byte("<ossec_config><remote><connection>secure</connection><port>1514</port></remote><auth><force><enabled>yes</enabled></force></auth></ossec_config>"))
	f.Add([]byte("<?xml version=\"1.0\"?><!-- a -- b --><ossec_config><x a=\"&\">&amp; &</x></ossec_config><ossec_config/>"))
	f.Add([]byte("<ossec_config><cluster><node_name>n</node_name></cluster>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseOssecConf(data)
		if err != nil {
			var oe *OssecError
			if !errors.As(err, &oe) || len(oe.Messages) == 0 {
				t.Fatalf("not a reader's error: %v", err)
			}
			return
		}
		cfg, err := file.Apply(Default())
		if err != nil {
			return
		}
		if _, err := ParseOssecConf([]byte(cfg.OssecConfStored(false, file))); err != nil {
			t.Fatalf("the rendering of an accepted file does not parse: %v\n%s", err, cfg.OssecConfStored(false, file))
		}
	})
}
