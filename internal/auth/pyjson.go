package auth

import (
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/blake2b"

	"github.com/muster-project/muster/internal/pyjson"
)

// maxPyIntDigits is the longest integer literal Python's json.loads converts
// (sys.get_int_max_str_digits); longer ones make it fail.
const maxPyIntDigits = 4300

// HashAuthContext returns the hash_auth_context claim of a run_as login: the
// 16-byte BLAKE2b hex digest of the body re-serialised the way Python's
// json.dumps(json.loads(body)) does (", " and ": " separators, keys in
// received order, later duplicates replacing the value in place, ASCII-only
// output, Python float repr).
//
// Known differences from Python: NaN/Infinity literals in the input are
// rejected, and unpaired surrogate escapes or invalid UTF-8 are hashed as
// U+FFFD (Python keeps or rejects them).
func HashAuthContext(rawJSON []byte) (string, error) {
	v, err := pyjson.Parse(rawJSON, maxPyIntDigits)
	if err != nil {
		return "", fmt.Errorf("auth: auth context: %w", err)
	}
	h, err := blake2b.New(16, nil)
	if err != nil {
		return "", err
	}
	h.Write(v.Dumps())
	return hex.EncodeToString(h.Sum(nil)), nil
}
