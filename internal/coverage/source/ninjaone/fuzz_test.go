package ninjaone

import (
	"bytes"
	"os"
	"strconv"
	"testing"

	"github.com/muster-project/muster/internal/coverage"
)

// FuzzDecodePage feeds the page decoder and the mapping arbitrary answers:
// they must never panic, and a page they accept must map to one record per
// device, each with its device's id. go test runs the seeds.
func FuzzDecodePage(f *testing.F) {
	raw, err := os.ReadFile("testdata/devices-detailed.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	for _, s := range []string{
		``, `[]`, `null`, `{}`, `[{}]`, `[{"id":1}]`, `[{"id":-1}]`, `[{"id":1.5}]`, `[{"id":1e99}]`,
		`<html></html>`, `[{"id":1,"lastContact":"x"}]`, `[{"id":1,"lastContact":1e308}]`,
		`[{"id":1,"lastContact":-1e308}]`, `[{"id":1,"system":[]}]`, `[{"id":1,"os":"Windows"}]`,
		`[{"id":1,"macAddresses":[null,"",1]}]`, `[{"id":1,"tags":["a","a",""]}]`, `[{"id":1}]]`,
		`[{"id":1,"references":{"organization":{"name":7}}}]`, "\ufeff[]", `[{"id":2147483648}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		devs, err := decodePage(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		recs := mapDevices(nil, "n", devs, epoch0, "GET x", coverage.Env{})
		if len(recs) != len(devs) {
			t.Fatalf("%d records for %d devices", len(recs), len(devs))
		}
		for i, r := range recs {
			if r.ID != strconv.Itoa(devs[i].ID) || r.ID == "" || r.State == "" {
				t.Fatalf("record %d: %+v", i, r)
			}
		}
	})
}
