package api

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAccessLogFormats(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	l, err := OpenAccessLog(dir, "plain,json", "info", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/security/users?pretty=true", nil)
	rec := &recorder{status: 200, user: "wazuh", body: map[string]any{"username": "bob", "password": "Secret-1!"}}
	l.Request(r, rec, "192.0.2.1", 1500*time.Microsecond)
	l.Close()
	plain, _ := os.ReadFile(filepath.Join(dir, "api.log"))
	want := `2026/01/02 03:04:05 INFO: wazuh 192.0.2.1 "POST /security/users" with parameters {"pretty": "true"} and body {"password": "****", "username": "bob"} done in 0.002s: 200` + "\n"
	if string(plain) != want {
		t.Fatalf("plain line\n got %q\nwant %q", plain, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "api.json"))
	var entry struct {
		Timestamp string `json:"timestamp"`
		Levelname string `json:"levelname"`
		Data      struct {
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &entry); err != nil {
		t.Fatalf("json line: %v: %s", err, raw)
	}
	p := entry.Data.Payload
	if entry.Levelname != "INFO" || entry.Data.Type != "request" || p["user"] != "wazuh" || p["uri"] != "POST /security/users" ||
		p["status_code"] != float64(200) || p["body"].(map[string]any)["password"] != "****" {
		t.Fatalf("json entry %+v", entry)
	}
	if strings.Contains(string(raw)+string(plain), "Secret-1!") {
		t.Fatal("a password reached the log")
	}
}

func TestAccessLogRotates(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenAccessLog(dir, "plain", "info", 300, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	for i := 0; i < 5; i++ {
		l.Request(r, &recorder{status: 200}, "127.0.0.1", time.Millisecond)
	}
	l.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "api.log*"))
	if len(files) < 2 {
		t.Fatalf("no rotation: %v", files)
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() > 300 {
			t.Errorf("%s is %d bytes, over the 300 limit", f, st.Size())
		}
	}
}

func FuzzBasicCredentials(f *testing.F) {
	for _, s := range []string{"Basic d2F6dWg6d2F6dWg=", "basic", "Basic !!", "Bearer x", "Basic \xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		u, p, ok := basicCredentials(h)
		if !ok && (u != "" || p != "") {
			t.Fatal("credentials returned with ok=false")
		}
	})
}

func FuzzJSONSyntaxDetail(f *testing.F) {
	for _, s := range []string{"", "{", "not json", "[1,", "\"\\u12"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			if jsonSyntaxDetail(b, err) == "" {
				t.Fatal("empty detail")
			}
		}
		_ = tooDeep(b)
	})
}
