package rest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestFaults runs the walk against answers that must make it fail, never
// return a shorter list.
func TestFaults(t *testing.T) {
	write := func(w http.ResponseWriter, ct, body string) bool {
		w.Header().Set("Content-Type", ct)
		w.Write([]byte(body))
		return true
	}
	for _, tc := range []struct {
		name, style string
		hook        func(f *fakeAPI) func(w http.ResponseWriter, r *http.Request, n int) bool
		extra       string
		want        string
	}{
		{"html page", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return n == 2 && write(w, "text/html", "<!DOCTYPE html><html><body>Login</body></html>")
			}
		}, "", "not JSON (it starts \"<!DOCTYPE html>"},
		{"truncated", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return n == 2 && write(w, "application/json", `{"data":{"items":[{"id":"dev-00006","name":"x"},{"id":"dev-0`)
			}
		}, "", "the JSON ends early"},
		{"malformed", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"data":{"items":[{"id":"a","name":"x",}]}}`)
			}
		}, "", "malformed JSON at byte offset 39: expected a key in quotes"},
		{"id is an object", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":1},"data":{"items":[{"id":{"value":"a"},"name":"x"}]}}`)
			}
		}, "", "record 1: fields.id: id holds an object, not a value; map a value inside it, e.g. id.value"},
		{"id missing", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":2},"data":{"items":[{"id":"a","name":"x"},{"id":null,"name":"y"}]}}`)
			}
		}, "", "record 2 has no id"},
		{"bad last_seen", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":1},"data":{"items":[{"id":"a","name":"x","last_seen":1733562000}]}}`)
			}
		}, "", `fields.last_seen (last_seen) "1733562000" is not an RFC 3339 time`},
		{"records not an array", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":1},"data":{"items":{"id":"a"}}}`)
			}
		}, "", `records: "data.items" holds an object, not an array`},
		{"records missing", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":1},"results":[]}`)
			}
		}, "", `records: "data.items" is not in the answer`},
		{"record is a string", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":1},"data":{"items":["dev-1"]}}`)
			}
		}, "", "record 1 is a string, not an object"},
		{"total not a number", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"meta":{"total":"many"},"data":{"items":[]}}`)
			}
		}, "", `paging.total (meta.total) is "many", not a count`},
		{"more than declared", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 1 {
					return write(w, "application/json", `{"meta":{"total":3},"data":{"items":[{"id":"a","name":"a"},{"id":"b","name":"b"},{"id":"c","name":"c"},{"id":"d","name":"d"}]}}`)
				}
				return false
			}
		}, "", "said it holds 3 records but sent more"},
		{"fewer than declared", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 3 {
					return write(w, "application/json", `{"meta":{"total":23},"data":{"items":[]}}`)
				}
				return false
			}
		}, "", "said it holds 23 records but the pages held 10"},
		{"total drops", "offset", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 2 {
					f.devices = f.devices[1:]
				}
				return false
			}
		}, "", "went from 23 to 22"},
		{"page repeats records", "page", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 2 { // a device inserted at the front: the second page repeats one
					f.devices = append(f.devices[:1:1], f.devices...)
					f.devices[0] = device(99, t0)
				}
				return false
			}
		}, "", `record "dev-00005" came twice`},
		{"cursor loops", "cursor", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				c := "c-5"
				if n > 1 {
					c = "c-10"
				}
				if n == 3 {
					c = "c-5"
				}
				return write(w, "application/json", fmt.Sprintf(`{"items":[{"id":"i%d","name":"x"}],"next_cursor":%q}`, n, c))
			}
		}, "", `the API sent the page "cursor=c-5" again after 3 pages`},
		{"cursor is an object", "cursor", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"items":[],"next_cursor":{"after":"x"}}`)
			}
		}, "", "paging.cursor_path (next_cursor) holds an object, not a value; point it at a value inside it, e.g. next_cursor.after"},
		{"next link to another host", "next_link", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"value":[],"@odata.count":0,"@odata.nextLink":"https://evil.example/devices?$skiptoken=5"}`)
			}
		}, "", "points to https://evil.example, not to http://127.0.0.1"},
		{"next link downgrades", "next_link", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				return write(w, "application/json", `{"value":[],"@odata.count":0,"@odata.nextLink":"https://`+r.Host+`/devices?$skiptoken=5"}`)
			}
		}, "", "another host or scheme"},
		{"link header to another host", "link_header", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Link", `<//cdn.example/devices?since=5>; rel="next"`)
				return write(w, "application/json", `[]`)
			}
		}, "", "points to http://cdn.example"},
		{"link header malformed", "link_header", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Link", `/devices?since=5; rel="next"`)
				return write(w, "application/json", `[]`)
			}
		}, "", "the Link header"},
		{"max pages", "link_header", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Link", fmt.Sprintf(`</devices?since=%d>; rel="next"`, n))
				return write(w, "application/json", `[]`)
			}
		}, "  max_pages: 4\n", "paging.max_pages (4) reached"},
		{"forbidden", "none", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
				return true
			}
		}, "", "HTTP 403 Forbidden"},
		{"not found", "none", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				http.NotFound(w, r)
				return true
			}
		}, "", "check url"},
		{"server error", "none", func(f *fakeAPI) func(http.ResponseWriter, *http.Request, int) bool {
			return func(w http.ResponseWriter, r *http.Request, n int) bool {
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			}
		}, "", "gave up after 5 tries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 23, tc.style)
			f.hook = tc.hook(f)
			s := open(t, f, "")
			if tc.extra != "" {
				dir := t.TempDir()
				var err error
				if s, err = build(t, strings.Replace(f.config(t, dir, ""), "paging:\n", "paging:\n"+tc.extra, 1), dir, f.clock); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := s.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if recs != nil {
				t.Errorf("%d records with the error", len(recs))
			}
			if strings.Contains(err.Error(), f.token) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func TestAnswerTooLarge(t *testing.T) {
	f := newFake(t, 50, "none")
	s := open(t, f, "")
	s.maxBody = 1000
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}
