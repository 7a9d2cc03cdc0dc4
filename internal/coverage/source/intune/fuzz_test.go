package intune

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// FuzzPage feeds any body to the page decoder and maps what it accepts:
// nothing may panic, a page over the bound is refused, and every record
// is in one of the states the package documents.
func FuzzPage(f *testing.F) {
	recorded, err := os.ReadFile("testdata/managedDevices.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{
		recorded,
		benchPage(3),
		[]byte(`{"value":[]}`),
		[]byte(`{"value":[{"id":"a","lastSyncDateTime":"0001-01-01T00:00:00Z"}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/x?$skiptoken=1"}`),
		[]byte(`{"value":[{"id":"a","deviceName":5}]}`),
		[]byte(`{"value":[{"id":"a","lastSyncDateTime":"9999-99-99T99:99:99Z"}]}`),
		[]byte(`{"value":[{"id":"a","managementState":"wipePending","wiFiMacAddress":"::"}]}`),
		[]byte(`{"value":null}`), []byte(`[]`), []byte(`null`), []byte(`<html>`), []byte(`{"value":[{"id":"\u0000"}]`),
	} {
		f.Add(s)
	}
	states := map[string]bool{StateSynced: true, StateStale: true, StateNeverSynced: true}
	env := coverage.Env{Window: time.Hour}
	f.Fuzz(func(t *testing.T, b []byte) {
		pg, err := decodePage(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		if len(b) > 1<<20+1 {
			t.Fatalf("a body of %d bytes was accepted past the 1 MiB bound", len(b))
		}
		for i := range pg.Value {
			d := &pg.Value[i]
			r, err := mapDevice("s", d, start, "GET q", env.Fresh)
			if err != nil {
				continue
			}
			managedOrNone := d.ManagementState == "" || d.ManagementState == managed
			if managedOrNone && !states[r.State] || !managedOrNone && r.State != d.ManagementState {
				t.Fatalf("state %q for managementState %q", r.State, d.ManagementState)
			}
			if r.Healthy != (r.State == StateSynced) || r.ID != d.ID || (r.Healthy && r.LastSeen.IsZero()) {
				t.Fatalf("bad record %+v", r)
			}
			for _, m := range r.MACs {
				if m == "" {
					t.Fatal("an empty MAC")
				}
			}
		}
	})
}
