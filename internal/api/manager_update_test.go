package api_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/config"
	"go.yaml.in/yaml/v3"
)

const uploadedConf = `<ossec_config>
  <global>
    <jsonout_output>yes</jsonout_output>
    <agents_disconnection_time>15m</agents_disconnection_time>
  </global>
  <alerts>
    <log_alert_level>3</log_alert_level>
  </alerts>
  <remote>
    <connection>secure</connection>
    <port>1600</port>
    <queue_size>1000</queue_size>
  </remote>
  <!-- comments -- with dashes are fine -->
</ossec_config>
`

func TestManagerConfigurationUpload(t *testing.T) {
	e, tok := agEnv(t)
	octet := func() map[string]string {
		h := bearer(tok)
		h["Content-Type"] = "application/octet-stream"
		return h
	}
	path := filepath.Join(e.DataDir, "etc", "ossec.conf")
	msg := "Configuration was successfully updated"
	agExpect(t, do(t, e, "PUT", "/manager/configuration", octet(), uploadedConf), 200, agItems(`"manager"`, 1, nil, msg))
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&^0o640 != 0 {
		t.Fatalf("stored file: %v %v", err, st)
	}
	if b, _ := os.ReadFile(path); string(b) != uploadedConf {
		t.Fatalf("stored content: %q", b)
	}
	read := "Configuration was successfully read"
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=global&field=agents_disconnection_time"), 200,
		agItems(`{"global": {"agents_disconnection_time": "15m"}}`, 1, nil, read))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=global&field=jsonout_output"), 200,
		agItems(`{"global": {"jsonout_output": "yes"}}`, 1, nil, read))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=alerts&field=log_alert_level"), 200,
		agItems(`{"alerts": {"log_alert_level": "3"}}`, 1, nil, read))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=remote&field=port"), 200,
		agItems(`{"remote": [{"port": "1600"}]}`, 1, nil, read))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=remote&field=queue_size"), 200,
		agItems(`{"remote": [{"queue_size": "1000"}]}`, 1, nil, read))
	// The daemons run with what they started with until a restart.
	e.StartDaemons()
	agExpect(t, agGet(t, e, tok, "/manager/configuration/request/global"), 200, agItems(
		`{"global": {"agents_disconnection_time": 600, "agents_disconnection_alert_time": 0}}`, 1, nil,
		"Active configuration was successfully read"))
	agExpect(t, agGet(t, e, tok, "/manager/configuration/validation"), 200,
		agItems(`{"name": "manager", "status": "OK"}`, 1, nil, "Validation was successfully checked"))

	none := "Could not update configuration"
	failed := func(code int, detail, rem string) string {
		return `{"error": {"code": ` + strconv.Itoa(code) + `, "message": ` + agJSON(detail) + `, "remediation": ` +
			agJSON(rem) + `}, "id": ["manager"]}`
	}
	for _, c := range []struct{ name, body, want string }{
		{"malformed", "<ossec_config><global></ossec_config>",
			failed(1113, "XML syntax error", "Please, ensure file content has correct XML")},
		{"bad auth port", "<ossec_config><auth><port>abc</port></auth></ossec_config>", failed(1908,
			"Error validating configuration: (1235): Invalid value for element 'port': abc., "+
				"(1202): Configuration error at 'etc/ossec.conf'.", "Please, fix the corrupted files")},
		{"unknown auth element", "<ossec_config><auth><bogus>1</bogus></auth></ossec_config>", failed(1908,
			"Error validating configuration: (1230): Invalid element in the configuration: 'bogus'., "+
				"(1202): Configuration error at 'etc/ossec.conf'.", "Please, fix the corrupted files")},
		{"remote port out of range", "<ossec_config><remote><connection>secure</connection><port>70000</port></remote></ossec_config>",
			failed(1908, "Error validating configuration: (1205): Invalid port number: '70000'., "+
				"(1202): Configuration error at 'etc/ossec.conf'.", "Please, fix the corrupted files")},
		{"disconnection time", "<ossec_config><global><agents_disconnection_time>0</agents_disconnection_time></global></ossec_config>",
			failed(1908, "Error validating configuration: (1235): Invalid value for element 'agents_disconnection_time': 0., "+
				"(1202): Configuration error at 'etc/ossec.conf'.", "Please, fix the corrupted files")},
		{"unknown section", "<ossec_config><nonsense/></ossec_config>", failed(1908,
			"Error validating configuration: (1230): Invalid element in the configuration: 'nonsense'., "+
				"(1202): Configuration error at 'etc/ossec.conf'.", "Please, fix the corrupted files")},
	} {
		t.Run(c.name, func(t *testing.T) {
			agExpect(t, do(t, e, "PUT", "/manager/configuration", octet(), c.body), 200,
				agItems("", 0, []string{c.want}, none))
			if b, _ := os.ReadFile(path); string(b) != uploadedConf {
				t.Fatalf("a refused upload replaced the stored file: %q", b)
			}
		})
	}
	// The body's checks come first, as in Wazuh's controller.
	h := bearer(tok)
	h["Content-Type"] = "application/json"
	agStatus(t, do(t, e, "PUT", "/manager/configuration", h, "{}"), 415, 0)
	agStatus(t, do(t, e, "PUT", "/manager/configuration", octet(), "\xff\xfe"), 400, 1911)
	agStatus(t, do(t, e, "PUT", "/manager/configuration?bogus=1", octet(), uploadedConf), 400, 0)

	// RBAC: manager:update_config, and manager:read plus manager:restart.
	reader := agScoped(t, e, "mgrreader", agPolicy("allow", strs("manager:read"), "*:*:*"))
	h = bearer(reader)
	h["Content-Type"] = "application/octet-stream"
	agStatus(t, do(t, e, "PUT", "/manager/configuration", h, uploadedConf), 403, 4000)
	agStatus(t, do(t, e, "PUT", "/manager/restart", bearer(reader), ""), 403, 4000)
	restarter := agScoped(t, e, "restarter", agPolicy("allow", strs("manager:restart"), "*:*:*"))
	agStatus(t, do(t, e, "PUT", "/manager/restart", bearer(restarter), ""), 403, 4000)
}

// TestManagerConfigurationProtected honours api.yaml's
// upload_configuration: a protected part may not change.
func TestManagerConfigurationProtected(t *testing.T) {
	var node yaml.Node
	if err := yaml.Unmarshal([]byte("remote_commands:\n  localfile:\n    allow: false\n    exceptions: ['uptime']\n"+
		"indexer:\n  allow: false\nagents:\n  allow_higher_versions:\n    allow: false\n"), &node); err != nil {
		t.Fatal(err)
	}
	e, tok := agEnv(t, func(c *config.Config) { c.API.UploadConfiguration = *node.Content[0] })
	h := bearer(tok)
	h["Content-Type"] = "application/octet-stream"
	failed := func(code int, detail, rem string) string {
		return `{"error": {"code": ` + strconv.Itoa(code) + `, "message": ` + agJSON(detail) + `, "remediation": ` +
			agJSON(rem) + `}, "id": ["manager"]}`
	}
	docs := "https://documentation.wazuh.com/4.14/user-manual/api/configuration.html"
	for _, c := range []struct{ name, body, want string }{
		{"command", `<ossec_config><localfile><log_format>command</log_format><command>rm -rf /</command></localfile></ossec_config>`,
			failed(1124, "Remote command detected: localfile", "To solve this issue, please enable the remote commands "+
				"in the API settings or add an exception: "+docs+"#remote-commands-localfile-and-wodle-command")},
		{"indexer", `<ossec_config><indexer><enabled>yes</enabled></indexer></ossec_config>`,
			failed(1127, "Protected section was modified: indexer", "To solve this, either revert the changes made "+
				"to this section or disable the protection in the API settings: "+docs)},
		{"higher versions", `<ossec_config><remote><connection>secure</connection><agents><allow_higher_versions>yes</allow_higher_versions></agents></remote></ossec_config>`,
			failed(1129, "Higher version agents detected: remote > allow_higher_versions", "To solve this issue, "+
				"please enable agents higher versions in the API settings: "+docs+"#agents")},
	} {
		t.Run(c.name, func(t *testing.T) {
			agExpect(t, do(t, e, "PUT", "/manager/configuration", h, c.body), 200,
				agItems("", 0, []string{c.want}, "Could not update configuration"))
		})
	}
	if _, err := os.Stat(filepath.Join(e.DataDir, "etc", "ossec.conf")); !os.IsNotExist(err) {
		t.Fatalf("a refused upload was stored: %v", err)
	}
	// An excepted command passes.
	ok := `<ossec_config><localfile><log_format>command</log_format><command>uptime</command></localfile></ossec_config>`
	agExpect(t, do(t, e, "PUT", "/manager/configuration", h, ok), 200,
		agItems(`"manager"`, 1, nil, "Configuration was successfully updated"))
	x := agGet(t, e, tok, "/manager/configuration?raw=true")
	if x.status != 200 || !strings.Contains(string(x.body), "<command>uptime</command>") {
		t.Fatalf("raw: %d %s", x.status, x.body)
	}
}
