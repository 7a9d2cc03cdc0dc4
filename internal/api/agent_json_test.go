package api

import (
	"testing"

	"github.com/muster-project/muster/internal/core"
)

func TestAppendDate(t *testing.T) {
	for _, e := range []int64{0, 1795599459, core.ManagerKeepalive, 951782400, 1709164800, -1} {
		if got := string(appendDate(nil, e)); got != core.FormatDate(e) {
			t.Errorf("%d: %s, want %s", e, got, core.FormatDate(e))
		}
	}
}

// TestAppendAgentOmissions checks the record rules: NULL fields and a zero
// disconnection_time are left out, os only when one of its fields is set.
func TestAppendAgentOmissions(t *testing.T) {
	a := core.Agent{ID: 7, Name: "n", Status: core.AgentNeverConnected, DateAdd: 0, NodeName: core.Some("unknown"),
		GroupConfigStatus: core.ConfigNotSynced, RegisterIP: core.Some("any"), IP: core.Some("any")}
	got := string(appendAgent(nil, &a, core.AllAgentFields, true))
	want := `{"id": "007", "status": "never_connected", "name": "n", "registerIP": "any", "ip": "any", ` +
		`"dateAdd": "1970-01-01T00:00:00+00:00", "status_code": 0, "node_name": "unknown", "group_config_status": "not synced"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	a.OS.Platform = core.Some("ubuntu")
	if got := string(appendAgent(nil, &a, core.FieldOSPlatform|core.FieldOSName, false)); got != `{"os": {"platform": "ubuntu"}}` {
		t.Fatalf("os only: %s", got)
	}
	if got := string(appendAgent(nil, &a, core.FieldOSName, true)); got != `{"id": "007"}` {
		t.Fatalf("NULL os field: %s", got)
	}
}
