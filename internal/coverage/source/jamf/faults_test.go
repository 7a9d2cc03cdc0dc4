package jamf

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestMalformedPages(t *testing.T) {
	good := string(genComputer(1, t0))
	for _, tc := range []struct {
		name, body, want string
	}{
		{"HTML", "<!DOCTYPE html><html><head><title>Jamf Pro</title></head></html>", "not a login page"},
		{"empty", "", "the answer is empty"},
		{"truncated", `{"totalCount":2,"results":[` + good[:len(good)/2], "cut short"},
		{"syntax", `{"totalCount":1,"results":[{"id":"1",}]}`, "not valid JSON at byte"},
		{"managed is a string", `{"totalCount":1,"results":[{"id":"1","general":{"remoteManagement":{"managed":"yes"}}}]}`, "results[0].general.remoteManagement.managed is a JSON string, not a bool"},
		{"name is a number", `{"totalCount":1,"results":[{"id":"1","general":{"name":17}}]}`, "results[0].general.name is a JSON number"},
		{"id is an object", `{"totalCount":1,"results":[{"id":{"v":1}}]}`, "results[0].id is a JSON object, not an id"},
		{"results is an object", `{"totalCount":1,"results":{}}`, "results is a JSON object, not an array"},
		{"totalCount missing", `{"results":[]}`, "no totalCount"},
		{"totalCount a string", `{"totalCount":"1","results":[]}`, "totalCount is a JSON string"},
		{"an array", `[]`, "not a computers-inventory page"},
		{"no id", `{"totalCount":1,"results":[{"udid":"x"}]}`, "computer 0 has no id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 1)
			src := open(t, f, "")
			f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Write([]byte(tc.body))
				return true
			}
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil || recs != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%d records, err = %v; want %q", len(recs), err, tc.want)
			}
			if !strings.Contains(err.Error(), "page 0") {
				t.Errorf("error %q does not name the page", err)
			}
		})
	}
}

func TestNumericIDsTolerated(t *testing.T) {
	f := newFake(t, 1)
	src := open(t, f, "")
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Write([]byte(`{"totalCount":1,"results":[{"id":42,"general":{"name":"m","site":{"id":-1,"name":"None"},"remoteManagement":{"managed":true},"lastContactTime":null}}]}`))
		return true
	}
	recs := fetch(t, src)
	if len(recs) != 1 || recs[0].ID != "42" || recs[0].Groups != nil || recs[0].State != StateStale {
		t.Errorf("%+v", recs)
	}
}

func TestPageTooBig(t *testing.T) {
	f := newFake(t, 50)
	src := open(t, f, "")
	src.maxBody = 10 << 10
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "lower page_size") {
		t.Fatalf("err = %v", err)
	}
}

// pages serves fixed pages by page number.
func pages(f *fakeJamf, total int, byPage ...[]int) func(w http.ResponseWriter, r *http.Request, n int) bool {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		var p int
		fmt.Sscan(r.URL.Query().Get("page"), &p)
		var results []json.RawMessage
		if p < len(byPage) {
			for _, id := range byPage[p] {
				results = append(results, genComputer(id, t0))
			}
		}
		f.writePage(w, total, results)
		return true
	}
}

func TestPagingFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		pages [][]int
		want  string
	}{
		{"a page repeats a record", 4, [][]int{{1, 2}, {2, 3}}, `record "2" came twice`},
		{"more than declared", 3, [][]int{{1, 2}, {3, 4}}, "said it holds 3 records but sent more"},
		{"fewer than declared", 5, [][]int{{1, 2}, {3}}, "said it holds 5 records but the pages held 3"},
		{"the same page again", 6, [][]int{{1, 2}, {1, 2}}, `record "1" came twice`},
		{"zero declared but sent", 0, [][]int{{1}}, "totalCount is 0 but the page holds 1"},
		{"more than page-size", 9, [][]int{{1, 2, 3}}, "more than the page-size 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 0)
			f.pageSize = 2
			src := open(t, f, "page_size: 2\n")
			f.hook = pages(f, tc.total, tc.pages...)
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil || recs != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%d records, err = %v; want %q", len(recs), err, tc.want)
			}
		})
	}
}

func TestTotalCountChanges(t *testing.T) {
	f := newFake(t, 0)
	f.pageSize = 2
	src := open(t, f, "page_size: 2\n")
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch r.URL.Query().Get("page") {
		case "0":
			f.writePage(w, 3, []json.RawMessage{genComputer(1, t0), genComputer(2, t0)})
		case "1": // one enrolled meanwhile: it comes last
			f.writePage(w, 4, []json.RawMessage{genComputer(3, t0), genComputer(4, t0)})
		default:
			f.writePage(w, 4, nil)
		}
		return true
	}
	if recs := fetch(t, src); len(recs) != 4 {
		t.Errorf("%d records after an enrolment, want 4", len(recs))
	}
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Query().Get("page") == "0" {
			f.writePage(w, 4, []json.RawMessage{genComputer(1, t0), genComputer(2, t0)})
		} else { // one deleted: the rest shifted
			f.writePage(w, 3, []json.RawMessage{genComputer(4, t0)})
		}
		return true
	}
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "totalCount went from 4 to 3") {
		t.Errorf("err = %v", err)
	}
}

func TestEmptyInventory(t *testing.T) {
	f := newFake(t, 0)
	src := open(t, f, "")
	var progress [][2]int
	recs, err := src.Fetch(context.Background(), func(d, t int) { progress = append(progress, [2]int{d, t}) })
	if err != nil || len(recs) != 0 || len(progress) != 1 || progress[0] != [2]int{0, 0} {
		t.Errorf("%v, %v, progress %v", recs, err, progress)
	}
}
