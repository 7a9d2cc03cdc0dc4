package zabbix

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// features are the API differences between the Zabbix versions the
// connector speaks to, decided from apiinfo.version.
type features struct {
	version     string
	loginKey    string // user.login's user name parameter: "user" before 5.4
	groupSelect string // selectGroups, renamed selectHostGroups in 6.2
	header      bool   // send the credential as "Authorization: Bearer" (7.0 deprecates the body's auth)
}

// featuresFor reads a version such as "6.0.14".
func featuresFor(v string) (features, error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return features{}, fmt.Errorf("apiinfo.version answered %q, not a version such as 6.0.14; is url a Zabbix API?", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major < 1 {
		return features{}, fmt.Errorf("apiinfo.version answered %q, not a version such as 6.0.14; is url a Zabbix API?", v)
	}
	at := func(ma, mi int) bool { return major > ma || (major == ma && minor >= mi) }
	f := features{version: v, loginKey: "user", groupSelect: "selectGroups"}
	if at(5, 4) {
		f.loginKey = "username"
	}
	if at(6, 2) {
		f.groupSelect = "selectHostGroups"
	}
	f.header = at(7, 0)
	return f, nil
}

// features is what the last apiinfo.version said; 6.0's until then.
func (s *Source) features() features {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feat.loginKey == "" {
		f, _ := featuresFor("6.0")
		return f
	}
	return s.feat
}

// probe asks the server's version (apiinfo.version takes no auth) and
// adapts the calls to it.
func (s *Source) probe(ctx context.Context) error {
	var v string
	if _, err := s.rpc.call(ctx, "apiinfo.version", []string{}, "", true, &v); err != nil {
		return s.wrap(err)
	}
	f, err := featuresFor(v)
	if err != nil {
		return s.wrap(err)
	}
	s.mu.Lock()
	s.feat = f
	s.mu.Unlock()
	s.rpc.header.Store(f.header)
	return nil
}

// Fetch reads every host of the configured groups (all hosts when none).
//
// host.get can limit but not offset, so the walk lists the matching host
// ids first (a few bytes a host), then reads hosts and their agent.ping
// items BatchSize ids at a time: each answer stays small, and memory grows
// with the hosts, not with the size of one answer. A host deleted between
// the two steps is simply gone; it is not reported.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	if err := s.probe(ctx); err != nil {
		return nil, err
	}
	groupIDs, err := s.groupIDs(ctx)
	if err != nil {
		return nil, err
	}
	list := map[string]any{"output": []string{"hostid"}, "sortfield": "hostid"}
	if groupIDs != nil {
		list["groupids"] = groupIDs
	}
	var ids []apiHostID
	if _, err := s.call(ctx, "host.get", list, &ids); err != nil {
		return nil, err
	}
	progress(0, len(ids))
	out := make([]coverage.Record, 0, len(ids))
	for start := 0; start < len(ids); start += s.batch {
		batch := make([]string, 0, s.batch)
		for _, h := range ids[start:min(start+s.batch, len(ids))] {
			batch = append(batch, h.HostID)
		}
		recs, err := s.fetchBatch(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("%w (hosts %d-%d of %d)", err, start+1, start+len(batch), len(ids))
		}
		out = append(out, recs...)
		progress(start+len(batch), len(ids))
	}
	return out, nil
}

// fetchBatch reads the details and agent.ping items of some hosts.
func (s *Source) fetchBatch(ctx context.Context, hostIDs []string) ([]coverage.Record, error) {
	params := map[string]any{
		"hostids":   hostIDs,
		"sortfield": "hostid",
		"output":    []string{"hostid", "host", "name", "status"},
		"selectInterfaces": []string{"type", "main", "ip", "dns", "port", "available",
			"error", "errors_from", "disable_until"},
		"selectInventory":        []string{"serialno_a", "macaddress_a", "os", "name"},
		s.features().groupSelect: []string{"groupid", "name"},
	}
	var hosts []apiHost
	a, err := s.call(ctx, "host.get", params, &hosts)
	if err != nil {
		return nil, err
	}
	asked := make(map[string]bool, len(hostIDs))
	for _, id := range hostIDs {
		asked[id] = true
	}
	hosts = slices.DeleteFunc(hosts, func(h apiHost) bool {
		keep := asked[h.HostID]
		asked[h.HostID] = false // once each
		return !keep
	})
	var pings []apiItem
	items := map[string]any{
		"hostids": hostIDs,
		"output":  []string{"hostid", "lastclock", "lastvalue"},
		"filter":  map[string]any{"key_": "agent.ping"},
	}
	if _, err := s.call(ctx, "item.get", items, &pings); err != nil {
		return nil, err
	}
	return mapHosts(s.name, hosts, pings, a.readAt, s.request("host.get")), nil
}

// groupIDs resolves the configured group names; nil when none are configured.
func (s *Source) groupIDs(ctx context.Context) ([]string, error) {
	if len(s.groups) == 0 {
		return nil, nil
	}
	var all []apiGroup
	params := map[string]any{"output": []string{"groupid", "name"}, "sortfield": "name"}
	if _, err := s.call(ctx, "hostgroup.get", params, &all); err != nil {
		return nil, err
	}
	byName := make(map[string]string, len(all))
	for _, g := range all {
		byName[g.Name] = g.GroupID
	}
	var ids, unknown []string
	for _, name := range s.groups {
		id, ok := byName[name]
		if !ok {
			unknown = append(unknown, strconv.Quote(name))
			continue
		}
		ids = append(ids, id)
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(all))
		for _, g := range all {
			known = append(known, strconv.Quote(g.Name))
		}
		slices.Sort(known)
		return nil, fmt.Errorf("zabbix source %s: groups: no host group named %s on %s (names are case-sensitive); the server has: %s",
			s.name, strings.Join(unknown, ", "), s.rpc.url, strings.Join(known, ", "))
	}
	return ids, nil
}
