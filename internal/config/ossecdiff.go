package config

import "reflect"

// Changed lists the ossec.conf settings that differ between the settings
// in force and those of a new configuration, by their ossec.conf names
// ("remote.port", "global.agents_disconnection_time"), for the log that
// says what a restart will apply.
func Changed(running, next Config) []string {
	var out []string
	add := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, name)
		}
	}
	add("global.agents_disconnection_time", running.Manager.AgentsDisconnectionTime, next.Manager.AgentsDisconnectionTime)
	r, n := running.Remote, next.Remote
	add("remote.port", r.Port, n.Port)
	add("remote.protocol", []string(r.Protocol), []string(n.Protocol))
	add("remote.local_ip", r.LocalIP, n.LocalIP)
	add("remote.ipv6", r.IPv6, n.IPv6)
	add("remote.connection_overtake_time", r.ConnectionOvertakeTime, n.ConnectionOvertakeTime)
	add("remote.agents.allow_higher_versions", r.AllowHigherVersions, n.AllowHigherVersions)
	add("auth", running.Auth, next.Auth)
	add("cluster.node_name", running.Manager.NodeName, next.Manager.NodeName)
	return out
}
