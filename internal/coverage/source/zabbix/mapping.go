package zabbix

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// The states a record can have; Zabbix's own words for the agent interface.
const (
	StateDisabled         = "disabled"
	StateAvailable        = "available"
	StateUnavailable      = "unavailable"
	StateUnknown          = "unknown"
	StateNoAgentInterface = "no_agent_interface"
)

// Zabbix codes the mapping reads.
const (
	statusMonitored   = "0"
	statusUnmonitored = "1"
	ifaceAgent        = "1"
	availUnknown      = "0"
	availYes          = "1"
	availNo           = "2"
)

// mapHosts turns one batch of host.get and item.get answers into records. It
// is pure: everything it needs is in its arguments. readAt is when the host
// answer arrived and request names it (never a secret).
func mapHosts(source string, hosts []apiHost, pings []apiItem, readAt time.Time, request string) []coverage.Record {
	last := lastPings(pings)
	out := make([]coverage.Record, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, mapHost(source, h, last[h.HostID], readAt, request))
	}
	return out
}

// lastPings keeps, per host, the agent.ping item that ran last (a host may
// have several, e.g. one from a template and one of its own).
func lastPings(pings []apiItem) map[string]apiItem {
	m := make(map[string]apiItem, len(pings))
	for _, p := range pings {
		if old, ok := m[p.HostID]; !ok || clock(p.LastClock) > clock(old.LastClock) {
			m[p.HostID] = p
		}
	}
	return m
}

func mapHost(source string, h apiHost, ping apiItem, readAt time.Time, request string) coverage.Record {
	var fields coverage.FieldsBuilder
	fields.Set("status", h.Status)
	if h.Name != "" && h.Name != h.Host {
		fields.Set("name", h.Name)
	}
	fields.SetNonEmpty("inventory.name", h.Inventory.Name)
	r := coverage.Record{
		Source:   source,
		ID:       h.HostID,
		Hostname: h.Host,
		Serial:   strings.TrimSpace(h.Inventory.SerialNoA),
		MACs:     splitMACs(h.Inventory.MACAddressA),
		IPs:      interfaceIPs(h.Interfaces),
		OS:       strings.TrimSpace(h.Inventory.OS),
		Groups:   groupNames(h),
		ReadAt:   readAt,
		Request:  request,
	}
	if ping.ItemID != "" {
		fields.Set("lastclock", ping.LastClock)
		fields.Set("lastvalue", ping.LastValue)
		if c := clock(ping.LastClock); c > 0 {
			r.LastSeen = time.Unix(c, 0).UTC()
		}
	}
	agent, ok := agentInterface(h.Interfaces)
	if ok {
		fields.Set("available", agent.Available)
		fields.Set("errors_from", agent.ErrorsFrom)
		fields.Set("disable_until", agent.DisableUntil)
		fields.Set("interface", agentAddress(agent))
		if agent.Error != "" {
			fields.Set("error", agent.Error)
		}
	}
	switch {
	case h.Status == statusUnmonitored:
		r.State = StateDisabled
	case !ok:
		r.State = StateNoAgentInterface
	case agent.Available == availYes:
		r.State = StateAvailable
	case agent.Available == availNo:
		r.State = StateUnavailable
	default: // "0" and anything a later version may add
		r.State = StateUnknown
	}
	r.Healthy = h.Status == statusMonitored && ok && agent.Available == availYes
	r.Fields = fields.Build()
	return r
}

// agentInterface is the host's main agent interface, else its first agent
// interface (Zabbix keeps one main interface per type, so that is a fallback).
func agentInterface(ifs []apiInterface) (apiInterface, bool) {
	first := -1
	for i, f := range ifs {
		if f.Type != ifaceAgent {
			continue
		}
		if f.Main == "1" {
			return f, true
		}
		if first < 0 {
			first = i
		}
	}
	if first < 0 {
		return apiInterface{}, false
	}
	return ifs[first], true
}

// agentAddress is where Zabbix polls the agent: ip or dns, then the port.
func agentAddress(f apiInterface) string {
	host := f.IP
	if host == "" {
		host = f.DNS
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + f.Port
}

// splitMACs reads inventory.macaddress_a, which people fill by hand: several
// addresses separated by commas, semicolons or white space.
func splitMACs(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(parts) == 0 {
		return nil
	}
	return parts
}

// interfaceIPs lists the hosts' interface addresses once each, in order.
func interfaceIPs(ifs []apiInterface) []string {
	var out []string
	for _, f := range ifs {
		if f.IP != "" && !slices.Contains(out, f.IP) {
			out = append(out, f.IP)
		}
	}
	return out
}

// groupNames is the host's group names, sorted, from whichever key the server used.
func groupNames(h apiHost) []string {
	var out []string
	for _, gs := range [][]apiGroup{h.Groups, h.HostGroups} {
		for _, g := range gs {
			if g.Name != "" && !slices.Contains(out, g.Name) {
				out = append(out, g.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// clock reads a Unix time Zabbix sent as a string; 0 when it is not one.
func clock(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
