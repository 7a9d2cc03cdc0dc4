package wazuh

import (
	"net/netip"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/scan"
)

// ManagerID is the manager's own agent, which every manager lists first; it
// is not a device the fleet has to cover.
const ManagerID = "000"

// mapAgent turns one agent and the scanner's verdict on it into a record; ok
// is false for the manager's own agent. It is pure: readAt is when the page
// holding the agent arrived and request names that page (never a secret).
func mapAgent(source string, a *client.Agent, v scan.Verdict, readAt time.Time, request string) (r coverage.Record, ok bool) {
	if a == nil || a.ID == ManagerID {
		return coverage.Record{}, false
	}
	var fields coverage.FieldsBuilder
	set := fields.SetNonEmpty
	set("status", a.Status)
	set("name", a.Name)
	set("ip", a.IP)
	set("version", a.Version)
	set("lastKeepAlive", stamp(a.LastKeepAlive))
	set("dateAdd", stamp(a.DateAdd))
	set("disconnection_time", stamp(a.DisconnectionTime))
	set("group", strings.Join(a.Group, ","))
	var osName, osVersion, osPlatform string
	if a.OS != nil {
		osName, osVersion, osPlatform = a.OS.Name, a.OS.Version, a.OS.Platform
		set("os.name", osName)
		set("os.version", osVersion)
		set("os.platform", osPlatform)
	}
	r = coverage.Record{
		Source:   source,
		ID:       a.ID,
		Hostname: a.Name,
		IPs:      agentIPs(a.IP),
		OS:       osString(osName, osVersion, osPlatform),
		Groups:   groups(a.Group),
		State:    string(v.Class),
		Healthy:  v.Healthy(),
		LastSeen: lastSeen(a.LastKeepAlive),
		Fields:   fields.Build(),
		ReadAt:   readAt,
		Request:  request,
	}
	return r, true
}

// stamp is a timestamp in RFC 3339, "" when the API sent none.
func stamp(t client.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// lastSeen is the agent's last keepalive; zero when it never sent one (and
// for the far-future date Wazuh gives its own agent).
func lastSeen(t client.Time) time.Time {
	if t.IsZero() || t.Year() >= 9999 {
		return time.Time{}
	}
	return t.UTC()
}

// agentIPs is the address the agent last connected from. "any" (never
// connected, registered from anywhere) and networks such as 10.0.6.0/24
// (the registration's allowed range) are not an address of the device.
func agentIPs(ip string) []string {
	ip = strings.TrimSpace(ip)
	if ip == "" || strings.EqualFold(ip, "any") {
		return nil
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return nil
	}
	return []string{ip}
}

// osString is "name version", e.g. "Ubuntu 22.04.4 LTS"; the platform
// stands in for a missing name.
func osString(name, version, platform string) string {
	if name == "" {
		name = platform
	}
	if name == "" {
		return ""
	}
	return strings.TrimSpace(name + " " + version)
}

// groups copies the agent's group list (nil when it has none).
func groups(in []string) []string {
	var out []string
	for _, g := range in {
		if g != "" {
			out = append(out, g)
		}
	}
	return out
}
