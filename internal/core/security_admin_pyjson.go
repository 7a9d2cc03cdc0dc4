package core

import "github.com/muster-project/muster/internal/pyjson"

// PyRepr returns Python's repr of what json.loads makes of raw (strings in
// single quotes, True, False, None, dicts in received key order), the way
// Wazuh quotes values in its validation errors. Invalid JSON is returned
// as it is.
func PyRepr(raw []byte) string {
	v, err := pyjson.Parse(raw, 0)
	if err != nil {
		return string(raw)
	}
	return string(v.Repr())
}
