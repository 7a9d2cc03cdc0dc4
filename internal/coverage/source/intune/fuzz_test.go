package intune

import (
	"bytes"
	"errors"
	"os"
	"strings"
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

// FuzzDecodersAgree holds the jsonscan page decoder to the encoding/json one
// it replaced (reference_test.go): the same pages accepted with the same
// devices and next link, and the same kind of refusal (a field of the wrong
// type names the same field; a page cut short is cut short for both).
func FuzzDecodersAgree(f *testing.F) {
	recorded, err := os.ReadFile("testdata/managedDevices.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(recorded), string(benchPage(3)), `{"value":[]}`, `{"value":[{"id":"a","ID":"b","DeviceNAME":"x","deviceName":null}]}`,
		`{"value":[{"id":"a","deviceName":5}]}`, `{"value":["x",null,{}]}`, `{"value":{"id":"a"}}`, `{"@odata.nextLink":7,"value":[]}`,
		`{"value":[{"id":"\u00e9\ud800"}],"value":[{"id":"b"}]}`, `{"value":[]} x`, `[1]`, `null`, `<html>`, `{"value":[{"id":"a"`,
		`{"value":[{"osVersion":true,"id":1}]}`, "{\"value\":[{\"id\":\"\xff\",\"\u212Ad\":\"kelvin\"}]}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := decodePage(bytes.NewReader(b), 1<<20)
		want, werr := refDecodePage(bytes.NewReader(b), 1<<20)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: jsonscan %v, encoding/json %v", b, gerr, werr)
		}
		if gerr != nil {
			var fe *fieldError
			var rfe *refFieldError
			// (a number beyond float64 where a field is not a string fails
			// encoding/json's interface decoding first: not a field error there)
			if errors.As(werr, &rfe) && (!errors.As(gerr, &fe) || *fe != fieldError(*rfe)) {
				t.Fatalf("%q: jsonscan %v, encoding/json %v", b, gerr, werr)
			}
			if cut := strings.Contains(werr.Error(), "ends before"); cut != strings.Contains(gerr.Error(), "ends before") {
				t.Fatalf("%q: jsonscan %v, encoding/json %v", b, gerr, werr)
			}
			return
		}
		if got.NextLink != want.NextLink || len(got.Value) != len(want.Value) {
			t.Fatalf("%q: %d devices next %q, encoding/json %d next %q", b, len(got.Value), got.NextLink, len(want.Value), want.NextLink)
		}
		for i := range got.Value {
			if got.Value[i] != want.Value[i] {
				t.Fatalf("%q: device %d\n%+v\nencoding/json\n%+v", b, i, got.Value[i], want.Value[i])
			}
		}
	})
}
