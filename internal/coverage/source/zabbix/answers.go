package zabbix

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The types below are the parts of Zabbix's answers the connector reads.
// Zabbix sends every number as a string; they stay strings here and the
// mapping reads them, so one odd value never fails a whole page.

// apiHost is one element of host.get's result.
type apiHost struct {
	HostID     string         `json:"hostid"`
	Host       string         `json:"host"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Groups     []apiGroup     `json:"groups"`     // selectGroups (before 6.2)
	HostGroups []apiGroup     `json:"hostgroups"` // selectHostGroups (6.2 and later)
	Inventory  apiInventory   `json:"inventory"`
	Interfaces []apiInterface `json:"interfaces"`
}

// apiGroup is a host group.
type apiGroup struct {
	GroupID string `json:"groupid"`
	Name    string `json:"name"`
}

// apiInterface is one of a host's interfaces.
type apiInterface struct {
	Type         string `json:"type"` // 1 agent, 2 SNMP, 3 IPMI, 4 JMX
	Main         string `json:"main"`
	IP           string `json:"ip"`
	DNS          string `json:"dns"`
	Port         string `json:"port"`
	Available    string `json:"available"` // 0 unknown, 1 available, 2 unavailable
	Error        string `json:"error"`
	ErrorsFrom   string `json:"errors_from"`
	DisableUntil string `json:"disable_until"`
}

// apiInventory is a host's inventory. Zabbix sends an empty array, not an
// object, for a host whose inventory is disabled.
type apiInventory struct {
	SerialNoA   string `json:"serialno_a"`
	MACAddressA string `json:"macaddress_a"`
	OS          string `json:"os"`
	Name        string `json:"name"`
}

// UnmarshalJSON accepts the object and the empty array Zabbix sends.
func (inv *apiInventory) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var empty []json.RawMessage
		if err := json.Unmarshal(b, &empty); err != nil || len(empty) != 0 {
			return fmt.Errorf("inventory: expected an object or [], got %.40s", b)
		}
		*inv = apiInventory{}
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	type plain apiInventory
	return json.Unmarshal(b, (*plain)(inv))
}

// apiItem is one agent.ping item from item.get.
type apiItem struct {
	ItemID    string `json:"itemid"`
	HostID    string `json:"hostid"`
	LastClock string `json:"lastclock"` // Unix seconds; "0" = never
	LastValue string `json:"lastvalue"`
}

// apiHostID is an element of the id-only host.get that lists the hosts to read.
type apiHostID struct {
	HostID string `json:"hostid"`
}
