package api

import "strings"

// partial notes what an implemented endpoint still lacks; they appear in
// docs/compatibility.md.
var partial = map[string]string{}

// RouteStatus tells how muster serves an operation of Wazuh's API:
// "implemented", "partial: <what is missing>", "not supported (501)" or
// "not yet".
func RouteStatus(method, path string) string {
	key := method + " " + path
	if note, ok := partial[key]; ok {
		return "partial: " + note
	}
	for _, prefix := range unsupportedPrefixes {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return "not supported (501)"
		}
	}
	for _, r := range routes() {
		if r.method == method && r.path == path {
			return "implemented"
		}
	}
	return "not yet"
}
