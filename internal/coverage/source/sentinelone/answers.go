package sentinelone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/muster-project/muster/internal/connauth"
)

// The types below are the parts of the Management API's answers the
// connector reads (AgentsSchemasAgentViewSchemaMany200 in the swagger);
// every other field is skipped by the decoder.

// apiPage is one answer of GET /web/api/v2.1/agents.
type apiPage struct {
	Data       []apiAgent     `json:"data"`
	Pagination *apiPagination `json:"pagination"`
	Errors     []apiError     `json:"errors"`
}

// apiPagination is the page's cursor and the total the query matches.
type apiPagination struct {
	NextCursor *string `json:"nextCursor"` // null on the last page
	TotalItems *int    `json:"totalItems"`
}

// apiError is one element of an answer's errors array.
type apiError struct {
	Code   json.Number `json:"code"`
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
}

// apiAgent is one agent.
type apiAgent struct {
	ID                 string         `json:"id"`
	UUID               string         `json:"uuid"`
	ComputerName       string         `json:"computerName"`
	SerialNumber       string         `json:"serialNumber"`
	NetworkInterfaces  []apiInterface `json:"networkInterfaces"`
	LastIPToMgmt       string         `json:"lastIpToMgmt"`
	ExternalIP         string         `json:"externalIp"`
	OSName             string         `json:"osName"`
	OSType             string         `json:"osType"`
	OSRevision         string         `json:"osRevision"`
	AccountName        string         `json:"accountName"`
	SiteID             string         `json:"siteId"`
	SiteName           string         `json:"siteName"`
	GroupName          string         `json:"groupName"`
	LastActiveDate     string         `json:"lastActiveDate"`
	IsActive           *bool          `json:"isActive"`
	NetworkStatus      string         `json:"networkStatus"`
	Infected           *bool          `json:"infected"`
	IsDecommissioned   *bool          `json:"isDecommissioned"`
	IsUninstalled      *bool          `json:"isUninstalled"`
	IsPendingUninstall *bool          `json:"isPendingUninstall"`
	AgentVersion       string         `json:"agentVersion"`
	OperationalState   string         `json:"operationalState"`
}

// apiInterface is one of a device's network interfaces.
type apiInterface struct {
	Physical string   `json:"physical"` // the MAC address
	Inet     []string `json:"inet"`     // IPv4 addresses
}

// apiTokenDetails is the answer of POST /web/api/v2.1/users/api-token-details.
type apiTokenDetails struct {
	Data struct {
		ExpiresAt string `json:"expiresAt"`
	} `json:"data"`
}

// errNotAPI marks an answer that is not a Management API answer at all.
var errNotAPI = errors.New("not a SentinelOne API answer")

// decodePage reads one page of agents; every fault is an error that says
// what was wrong, never a panic and never a silently shorter page.
func decodePage(raw []byte) (*apiPage, error) {
	if err := looksJSON(raw); err != nil {
		return nil, err
	}
	p, err := parsePage(raw)
	if err != nil {
		return nil, explainScan(err, len(raw))
	}
	if len(p.Errors) > 0 {
		return nil, fmt.Errorf("the API answered errors: %s", describeErrors(p.Errors))
	}
	if p.Data == nil {
		return nil, fmt.Errorf("%w: it has no \"data\" array of agents; is url the management console's address?", errNotAPI)
	}
	if p.Pagination == nil {
		return nil, fmt.Errorf("%w: it has no \"pagination\" object, so the walk cannot tell whether more agents follow", errNotAPI)
	}
	for i, a := range p.Data {
		if a.ID == "" {
			return nil, fmt.Errorf("agent %d of the page (computerName %q) has no id", i, a.ComputerName)
		}
	}
	return p, nil
}

// looksJSON refuses an empty body and one that is not a JSON object, such
// as a login page or a proxy's error page.
func looksJSON(raw []byte) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return fmt.Errorf("%w: the body is empty", errNotAPI)
	}
	if t[0] != '{' {
		return fmt.Errorf("%w: the body starts with %q, not a JSON object; is url the management console's address (e.g. https://usea1-partners.sentinelone.net), not a web page or a proxy's error page?",
			errNotAPI, connauth.Snippet(t[:min(len(t), 60)]))
	}
	return nil
}

// describeErrors summarises an errors array for a message.
func describeErrors(errs []apiError) string {
	parts := make([]string, 0, min(len(errs), 3))
	for _, e := range errs[:min(len(errs), 3)] {
		s := e.Title
		if e.Detail != "" {
			if s != "" {
				s += ": "
			}
			s += e.Detail
		}
		if e.Code != "" {
			s += " (code " + e.Code.String() + ")"
		}
		parts = append(parts, s)
	}
	return connauth.Snippet([]byte(strings.Join(parts, "; ")))
}

// errorsOf reads the errors array of a failed answer, if it is one.
func errorsOf(raw []byte) string {
	var p struct {
		Errors []apiError `json:"errors"`
	}
	if looksJSON(raw) != nil || json.Unmarshal(raw, &p) != nil || len(p.Errors) == 0 {
		return ""
	}
	return describeErrors(p.Errors)
}
