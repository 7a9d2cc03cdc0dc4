package crowdstrike

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// FuzzDecodeDetails feeds any bytes to the details scanner and maps what it
// accepts: nothing may panic, an accepted answer must agree with
// encoding/json on the ids, and every record must be well formed.
func FuzzDecodeDetails(f *testing.F) {
	if b, err := os.ReadFile("testdata/devices-v2.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		`{"meta":{},"errors":[],"resources":[{"device_id":"a","hostname":"h","groups":["g"],"tags":null,"last_seen":"2026-12-07T11:00:00Z","status":"normal"}]}`,
		`{"resources":[{"device_id":"a\u0062","hostname":"x\"y","serial_number":12,"reduced_functionality_mode":true,"groups":"one"}]}`,
		`{"resources":null,"errors":[{"code":404,"message":"Device not found","id":"a"}]}`,
		`{"resources":[{"device_id":"a","policies":[{"x":"]}\\"}"}],"meta":{"a":[1,2,{"b":"}"}]}}]}`,
		`{"resources":[{"device_id":{"x":1}}]}`,
		`{"resources":[{"device_id":"a","groups":[1,true,null,"g"]}]}`,
		`{"resources":[{"device_id":"a"`, `{"resources":[1]}`, `[]`, `null`, ``, `{} {}`, `{"a":-}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var env envelope[device]
		if err := decodeDetails(b, &env); err != nil {
			return
		}
		var std struct {
			Resources []struct {
				DeviceID fstr `json:"device_id"`
			} `json:"resources"`
		}
		if json.Valid(b) && json.Unmarshal(b, &std) == nil && len(std.Resources) == len(env.Resources) {
			for i := range std.Resources {
				if std.Resources[i].DeviceID != env.Resources[i].DeviceID {
					t.Fatalf("device %d: scanner read id %q, encoding/json %q", i, env.Resources[i].DeviceID, std.Resources[i].DeviceID)
				}
			}
		}
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		for _, r := range mapDevices("s", env.Resources, now, "q", coverage.Env{}) {
			if r.State == "" || (r.Healthy && r.State != StateNormal) || (r.Healthy && r.LastSeen.IsZero()) {
				t.Fatalf("bad record %+v", r)
			}
		}
	})
}
