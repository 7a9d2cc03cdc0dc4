package auth

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/muster-project/muster/internal/pyjson"
)

func TestHashAuthContextPythonVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/hash_auth_context.json")
	if err != nil {
		t.Fatal(err)
	}
	// Each vector: a body, Python's json.dumps(json.loads(body)) and the
	// blake2b(digest_size=16) hex of that, computed with CPython 3.11.
	var vectors []struct{ Body, Dumps, Hash string }
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 10 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.Body, func(t *testing.T) {
			val, err := pyjson.Parse([]byte(v.Body), maxPyIntDigits)
			if err != nil {
				t.Fatal(err)
			}
			if dumped := val.Dumps(); string(dumped) != v.Dumps {
				t.Errorf("dumps\n got %s\nwant %s", dumped, v.Dumps)
			}
			got, err := HashAuthContext([]byte(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Hash {
				t.Errorf("HashAuthContext = %s, want %s", got, v.Hash)
			}
		})
	}
}

func TestHashAuthContextErrors(t *testing.T) {
	long := make([]byte, maxPyIntDigits+1)
	for i := range long {
		long[i] = '7'
	}
	for _, body := range []string{"", "{", `{"a":1}}`, `{"a":1} {}`, "NaN", `{"a":Infinity}`, `{"a" 1}`, `[1,]`, string(long)} {
		t.Run(body, func(t *testing.T) {
			if h, err := HashAuthContext([]byte(body)); err == nil {
				t.Errorf("HashAuthContext(%q) = %s, want an error", body, h)
			}
		})
	}
}

func FuzzHashAuthContext(f *testing.F) {
	f.Add([]byte(`{"groups": ["web-team"], "n": [1.5e-7, -0, 1e400]}`))
	f.Add([]byte(`"\ud83d\ude00\u0000"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := HashAuthContext(body)
		if err == nil && len(h) != 32 {
			t.Fatalf("hash %q is not 32 hex characters", h)
		}
	})
}
