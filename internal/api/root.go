package api

import "github.com/muster-project/muster/internal/core"

// getRoot answers GET / with the API's identity.
func getRoot(c *call) error {
	writeJSON(c.w, c.r, data{Data: Object{
		{"title", "Wazuh API REST"},
		{"api_version", Version},
		{"revision", Revision},
		{"license_name", "GPL 2.0"},
		{"license_url", "https://github.com/wazuh/wazuh/blob/v" + Version + "/LICENSE"},
		{"hostname", c.s.hostname},
		{"timestamp", c.s.now().UTC().Format("2006-01-02T15:04:05Z")},
	}})
	return nil
}

// denied is Wazuh's 403 for an action the caller may not run.
func denied(resource string) *core.Error {
	return core.Ef(4000, "Resource type: %s", resource)
}
