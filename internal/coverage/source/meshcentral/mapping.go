package meshcentral

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// The types below are the parts of MeshCentral's messages the connector
// reads. Numbers are read as float64 (times are milliseconds since the
// epoch, exact in a float64) so that a 1.0 never fails a whole answer.

// envelope is what every message is first read as, to route it.
type envelope struct {
	Action     string `json:"action"`
	ResponseID string `json:"responseid"`
	NodeID     string `json:"nodeid"`
	Cause      string `json:"cause"` // close
	Msg        string `json:"msg"`   // close
}

// apiNode is one device of the nodes answer.
type apiNode struct {
	ID     string   `json:"_id"`
	Name   string   `json:"name"`  // as shown, may be renamed by a user
	RName  string   `json:"rname"` // as the agent reports it
	IP     string   `json:"ip"`    // the address the agent connected from
	OSDesc string   `json:"osdesc"`
	Conn   *float64 `json:"conn"` // bit mask: 1 agent, 2 CIRA, 4 AMT, 8 relay, 16 MQTT; absent when offline
	Pwr    *float64 `json:"pwr"`
	Agct   *float64 `json:"agct"` // when the agent connected (ms)
}

// apiMesh is one device group of the meshes answer.
type apiMesh struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
}

// apiLastConnect is the lastconnect answer; NoInfo when the server has no
// record (the device never connected, or is gone).
type apiLastConnect struct {
	NodeID string   `json:"nodeid"`
	Time   *float64 `json:"time"`
	Addr   string   `json:"addr"`
	NoInfo bool     `json:"noinfo"`
	Result string   `json:"result"`
}

// apiNetInfo is the getnetworkinfo answer: interfaces by name.
type apiNetInfo struct {
	NodeID string                    `json:"nodeid"`
	NetIf2 map[string][]apiInterface `json:"netif2"`
	NoInfo bool                      `json:"noinfo"`
	Result string                    `json:"result"`
}

type apiInterface struct {
	MAC     string `json:"mac"`
	Address string `json:"address"`
	Family  string `json:"family"`
}

// device is everything read about one node.
type device struct {
	node   apiNode
	meshID string
	group  string // the device group's name; the mesh id when the user cannot see the group
	last   *apiLastConnect
	net    *apiNetInfo
}

// parseEnvelope reads a message's routing keys.
func parseEnvelope(b []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return envelope{}, fmt.Errorf("MeshCentral sent a message that is not a JSON object (%v): %s", err, connauth.Snippet(b))
	}
	return env, nil
}

// parseNodes reads the nodes answer: devices by "mesh//<id>".
func parseNodes(b []byte) (map[string][]apiNode, error) {
	var a struct {
		Nodes  map[string][]apiNode `json:"nodes"`
		Result string               `json:"result"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("reading the nodes answer: %v: %s", err, connauth.Snippet(b))
	}
	if a.Nodes == nil {
		if a.Result != "" {
			return nil, fmt.Errorf("the nodes request was refused: %s", a.Result)
		}
		return nil, fmt.Errorf("the nodes answer holds no nodes object: %s", connauth.Snippet(b))
	}
	for mesh, nodes := range a.Nodes {
		for i, n := range nodes {
			if n.ID == "" {
				return nil, fmt.Errorf("the nodes answer has a device without _id (group %s, position %d)", mesh, i)
			}
		}
	}
	return a.Nodes, nil
}

// parseMeshes reads the meshes answer.
func parseMeshes(b []byte) ([]apiMesh, error) {
	var a struct {
		Meshes []apiMesh `json:"meshes"`
		Result string    `json:"result"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("reading the meshes answer: %v: %s", err, connauth.Snippet(b))
	}
	if a.Meshes == nil && a.Result != "" {
		return nil, fmt.Errorf("the meshes request was refused: %s", a.Result)
	}
	return a.Meshes, nil
}

// parseLastConnect reads a lastconnect answer.
func parseLastConnect(b []byte) (*apiLastConnect, error) {
	var a apiLastConnect
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("reading a lastconnect answer: %v: %s", err, connauth.Snippet(b))
	}
	return &a, nil
}

// parseNetInfo reads a getnetworkinfo answer.
func parseNetInfo(b []byte) (*apiNetInfo, error) {
	var a apiNetInfo
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("reading a getnetworkinfo answer: %v: %s", err, connauth.Snippet(b))
	}
	return &a, nil
}

// zeroMAC is what the agent reports for loopback and tunnel interfaces.
const zeroMAC = "00:00:00:00:00:00"

// mapDevice turns one device into a record. readAt is when the nodes
// answer arrived: an online device is seen then.
func mapDevice(source string, d device, readAt time.Time, request string) coverage.Record {
	n := d.node
	var fields coverage.FieldsBuilder
	fields.Set("_id", n.ID)
	fields.Set("meshid", d.meshID)
	set := fields.SetNonEmpty
	set("name", n.Name)
	set("rname", n.RName)
	set("osdesc", n.OSDesc)
	set("ip", n.IP)
	conn := int64(0)
	if n.Conn != nil {
		conn = int64(*n.Conn)
		fields.Set("conn", strconv.FormatInt(conn, 10))
	}
	if n.Pwr != nil {
		fields.Set("pwr", strconv.FormatInt(int64(*n.Pwr), 10))
	}
	if n.Agct != nil {
		fields.Set("agct", msString(*n.Agct))
	}
	online := conn&1 != 0
	rec := coverage.Record{
		Source:   source,
		ID:       n.ID,
		Hostname: n.Name,
		OS:       n.OSDesc,
		State:    StateOffline,
		Healthy:  online,
		ReadAt:   readAt,
		Request:  request,
	}
	if n.RName != "" {
		rec.Hostname = n.RName
	}
	if d.group != "" {
		rec.Groups = []string{d.group}
	}
	if online {
		rec.State = StateOnline
		rec.LastSeen = readAt
	} else if d.last != nil && !d.last.NoInfo && d.last.Time != nil && *d.last.Time > 0 {
		rec.LastSeen = time.UnixMilli(int64(*d.last.Time)).UTC()
		fields.Set("lastconnect.time", msString(*d.last.Time))
		set("lastconnect.addr", d.last.Addr)
	}
	rec.IPs = addIP(rec.IPs, n.IP)
	if d.net != nil && !d.net.NoInfo {
		names := make([]string, 0, len(d.net.NetIf2))
		for name := range d.net.NetIf2 {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			for _, ifc := range d.net.NetIf2[name] {
				mac := strings.TrimSpace(ifc.MAC)
				if mac != "" && mac != zeroMAC && !slices.Contains(rec.MACs, mac) {
					rec.MACs = append(rec.MACs, mac)
				}
				rec.IPs = addIP(rec.IPs, ifc.Address)
			}
		}
		if len(rec.MACs) > 0 {
			fields.Set("netif2.mac", strings.Join(rec.MACs, ","))
		}
	}
	rec.Fields = fields.Build()
	return rec
}

// addIP appends a usable address: loopback, link-local and unspecified
// addresses say nothing about which machine this is.
func addIP(ips []string, raw string) []string {
	a, err := netip.ParseAddr(strings.TrimSpace(raw))
	if err != nil {
		return ips
	}
	a = a.WithZone("").Unmap()
	if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
		return ips
	}
	s := a.String()
	if slices.Contains(ips, s) {
		return ips
	}
	return append(ips, s)
}

func msString(v float64) string { return strconv.FormatInt(int64(v), 10) }
