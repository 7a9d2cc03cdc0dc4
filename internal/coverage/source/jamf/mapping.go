package jamf

import (
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// The states a record can have.
const (
	// StateManaged: Jamf manages the computer and it checked in within the window.
	StateManaged = "managed"
	// StateStale: Jamf manages the computer but it has not checked in
	// within the window (or never did).
	StateStale = "stale"
	// StateUnmanaged: Jamf lists the computer but does not manage it
	// (general.remoteManagement.managed is false or absent).
	StateUnmanaged = "unmanaged"
)

// noSite is the site Jamf reports for a computer in no site.
const noSite = "-1"

// mapComputer turns one inventory record into a coverage.Record. It is
// pure: env is used for its window only. readAt is when the page arrived and
// request names it (never a secret).
func mapComputer(source string, c *computer, env coverage.Env, readAt time.Time, request string) coverage.Record {
	g := &c.General
	var fields coverage.FieldsBuilder
	put := fields.SetNonEmpty
	put("id", string(c.ID))
	put("udid", c.UDID)
	put("general.name", g.Name)
	put("general.lastContactTime", g.LastContactTime)
	put("general.reportDate", g.ReportDate)
	put("general.lastReportedIp", g.LastReportedIP)
	put("general.lastIpAddress", g.LastIPAddress)
	put("general.site.name", g.Site.Name)
	put("hardware.serialNumber", c.Hardware.SerialNumber)
	put("hardware.macAddress", c.Hardware.MacAddress)
	put("hardware.altMacAddress", c.Hardware.AltMacAddress)
	put("operatingSystem.name", c.OperatingSystem.Name)
	put("operatingSystem.version", c.OperatingSystem.Version)
	managed := g.RemoteManagement.Managed != nil && *g.RemoteManagement.Managed
	if g.RemoteManagement.Managed != nil {
		fields.Set("general.remoteManagement.managed", strconv.FormatBool(managed))
	}
	if g.MDMCapable.Capable != nil {
		fields.Set("general.mdmCapable.capable", strconv.FormatBool(*g.MDMCapable.Capable))
	}

	r := coverage.Record{
		Source:   source,
		ID:       string(c.ID),
		Hostname: strings.TrimSpace(g.Name),
		Serial:   strings.TrimSpace(c.Hardware.SerialNumber),
		MACs:     addrs(c.Hardware.MacAddress, c.Hardware.AltMacAddress),
		IPs:      addrs(g.LastReportedIP, g.LastIPAddress),
		OS:       osName(c.OperatingSystem),
		LastSeen: lastSeen(g),
		Fields:   fields.Build(),
		ReadAt:   readAt,
		Request:  request,
	}
	if name := strings.TrimSpace(g.Site.Name); name != "" && string(g.Site.ID) != noSite && !(g.Site.ID == "" && name == "None") {
		r.Groups = []string{name}
	}
	switch {
	case !managed:
		r.State = StateUnmanaged
	case env.Fresh(r.LastSeen, readAt):
		r.State, r.Healthy = StateManaged, true
	default:
		r.State = StateStale
	}
	return r
}

// lastSeen is the computer's last check-in (lastContactTime), or its last
// inventory report when it has none; zero when neither is a time.
func lastSeen(g *general) time.Time {
	if t := parseTime(g.LastContactTime); !t.IsZero() {
		return t
	}
	return parseTime(g.ReportDate)
}

// parseTime reads Jamf's times: RFC 3339, with or without fractions.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t.UTC()
}

// addrs keeps the non-empty values once each, in order.
func addrs(a, b string) []string {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "" && b == "":
		return nil
	case a == "":
		return []string{b}
	case b == "" || strings.EqualFold(a, b):
		return []string{a}
	}
	return []string{a, b}
}

// osName is e.g. "macOS 14.4.1".
func osName(o operatingSystem) string {
	return strings.TrimSpace(strings.TrimSpace(o.Name) + " " + strings.TrimSpace(o.Version))
}
