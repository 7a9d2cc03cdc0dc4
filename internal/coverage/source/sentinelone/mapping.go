package sentinelone

import (
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// The states a record can have, most telling first. Besides these, a
// disabled agent's State is its operationalState as SentinelOne names it
// (fully_disabled, partially_disabled, auto_fully_disabled,
// auto_partially_disabled, disabled_error, db_corruption, ...).
const (
	StateDecommissioned   = "decommissioned"
	StateUninstalled      = "uninstalled"
	StatePendingUninstall = "pending_uninstall"
	StateContained        = "contained" // networkStatus "disconnected": network quarantine
	StateInactive         = "inactive"  // isActive false
	StateStale            = "stale"     // isActive, but last active before the window
	StateConnecting       = "connecting"
	StateDisconnecting    = "disconnecting"
	StateActive           = "active"
)

// SentinelOne's words the mapping reads.
const (
	netConnected     = "connected"
	netDisconnected  = "disconnected"
	netConnecting    = "connecting"
	netDisconnecting = "disconnecting"
	opNotDisabled    = "na"
)

// mapAgent turns one agent into a record. It is pure: env gives only the
// window of env.Fresh. readAt is when the page arrived and request names it.
func mapAgent(source string, a apiAgent, readAt time.Time, request string, env coverage.Env) coverage.Record {
	var fields coverage.FieldsBuilder
	put := fields.SetNonEmpty
	putBool := func(k string, b *bool) {
		if b != nil {
			fields.Set(k, strconv.FormatBool(*b))
		}
	}
	put("id", a.ID)
	put("uuid", a.UUID)
	put("computerName", a.ComputerName)
	put("serialNumber", a.SerialNumber)
	put("lastActiveDate", a.LastActiveDate)
	put("networkStatus", a.NetworkStatus)
	put("operationalState", a.OperationalState)
	put("agentVersion", a.AgentVersion)
	put("lastIpToMgmt", a.LastIPToMgmt)
	put("externalIp", a.ExternalIP)
	put("osName", a.OSName)
	put("osType", a.OSType)
	put("osRevision", a.OSRevision)
	put("accountName", a.AccountName)
	put("siteId", a.SiteID)
	put("siteName", a.SiteName)
	put("groupName", a.GroupName)
	putBool("isActive", a.IsActive)
	putBool("infected", a.Infected)
	putBool("isDecommissioned", a.IsDecommissioned)
	putBool("isUninstalled", a.IsUninstalled)
	putBool("isPendingUninstall", a.IsPendingUninstall)

	r := coverage.Record{
		Source:   source,
		ID:       a.ID,
		Hostname: strings.TrimSpace(a.ComputerName),
		Serial:   strings.TrimSpace(a.SerialNumber),
		OS:       osString(a),
		ReadAt:   readAt,
		Request:  request,
		Fields:   fields.Build(),
	}
	r.MACs, r.IPs = addresses(a)
	r.Groups = groups(a)
	if t, err := parseTime(a.LastActiveDate); err == nil {
		r.LastSeen = t
	}
	fresh := env.Fresh(r.LastSeen, readAt)
	active := a.IsActive != nil && *a.IsActive
	op := strings.TrimSpace(a.OperationalState)
	switch {
	case is(a.IsDecommissioned):
		r.State = StateDecommissioned
	case is(a.IsUninstalled):
		r.State = StateUninstalled
	case is(a.IsPendingUninstall):
		r.State = StatePendingUninstall
	case a.NetworkStatus == netDisconnected:
		r.State = StateContained
	case op != "" && op != opNotDisabled:
		r.State = op
	case !active:
		r.State = StateInactive
	case !fresh:
		r.State = StateStale
	case a.NetworkStatus == netConnecting:
		r.State = StateConnecting
	case a.NetworkStatus == netDisconnecting:
		r.State = StateDisconnecting
	case a.NetworkStatus == netConnected:
		r.State = StateActive
	default: // a networkStatus this connector does not know
		r.State = strings.TrimSpace(a.NetworkStatus)
		if r.State == "" {
			r.State = "unknown"
		}
	}
	r.Healthy = r.State == StateActive
	return r
}

func is(b *bool) bool { return b != nil && *b }

// osString is osName with osRevision ("Windows 10 Pro 19045"), else osType.
func osString(a apiAgent) string {
	name, rev := strings.TrimSpace(a.OSName), strings.TrimSpace(a.OSRevision)
	switch {
	case name == "":
		return strings.TrimSpace(a.OSType)
	case rev == "" || strings.Contains(name, rev):
		return name
	}
	return name + " " + rev
}

// addresses lists the interfaces' MAC addresses and IPv4 addresses, and the
// address the agent last reached the console from, once each. externalIp is
// left out: it is the NAT's address, shared by every device behind it.
func addresses(a apiAgent) (macs, ips []string) {
	for _, n := range a.NetworkInterfaces {
		if m := strings.TrimSpace(n.Physical); m != "" && !contains(macs, m) {
			macs = append(macs, m)
		}
		for _, ip := range n.Inet {
			if ip = strings.TrimSpace(ip); ip != "" && !contains(ips, ip) {
				ips = append(ips, ip)
			}
		}
	}
	if ip := strings.TrimSpace(a.LastIPToMgmt); ip != "" && !contains(ips, ip) {
		ips = append(ips, ip)
	}
	return macs, ips
}

// groups is the agent's site and group names.
func groups(a apiAgent) []string {
	var out []string
	for _, g := range []string{a.SiteName, a.GroupName} {
		if g = strings.TrimSpace(g); g != "" && !contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseTime reads the API's timestamps ("2020-02-20T00:26:33.955830Z").
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
