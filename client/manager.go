package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ManagerInfo is GET /manager/info: version, installation path and type of the manager.
type ManagerInfo struct {
	Path           Scalar `json:"path"`
	Version        Scalar `json:"version"`
	Type           Scalar `json:"type"`
	MaxAgents      Scalar `json:"max_agents"`
	OpenSSLSupport Scalar `json:"openssl_support"`
	TZOffset       Scalar `json:"tz_offset"`
	TZName         Scalar `json:"tz_name"`
	UUID           Scalar `json:"uuid"`
}

// ManagerInfo returns basic information about the manager (GET /manager/info).
func (c *Client) ManagerInfo(ctx context.Context) (*ManagerInfo, error) {
	return getOne[ManagerInfo](ctx, c, http.MethodGet, "/manager/info", nil, nil)
}

// ManagerConfiguration returns the manager's ossec.conf as JSON, optionally one section and one field of it (GET /manager/configuration).
func (c *Client) ManagerConfiguration(ctx context.Context, section, field string) (map[string]any, error) {
	v := url.Values{}
	setStr(v, "section", section)
	setStr(v, "field", field)
	m, err := getOne[map[string]any](ctx, c, http.MethodGet, "/manager/configuration", v, nil)
	if err != nil {
		return nil, err
	}
	return *m, nil
}

// AgentsDisconnectionTime reads global/agents_disconnection_time, after which the manager marks a silent agent disconnected
// (900 s since Wazuh 4.13, 600 s before); it fails with ErrNotFound when the manager does not report it.
func (c *Client) AgentsDisconnectionTime(ctx context.Context) (time.Duration, error) {
	const path = "/manager/configuration"
	cfg, err := c.ManagerConfiguration(ctx, "global", "agents_disconnection_time")
	if err != nil {
		return 0, err
	}
	global, _ := cfg["global"].(map[string]any)
	raw, ok := global["agents_disconnection_time"]
	if !ok {
		return 0, &Error{Status: 200, Method: http.MethodGet, Path: path, Title: "Not Found",
			Detail: "the manager configuration has no global/agents_disconnection_time", kind: kindNotFound}
	}
	d, err := ParseWazuhDuration(fmt.Sprint(raw))
	if err != nil {
		return 0, &Error{Status: 200, Method: http.MethodGet, Path: path, Title: "Undecodable response",
			Detail: err.Error(), kind: kindBadResponse}
	}
	return d, nil
}

// ParseWazuhDuration parses ossec.conf time values: plain seconds ("900") or a number with s, m, h, d or w ("15m").
func ParseWazuhDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	unit := time.Second
	switch s[len(s)-1] {
	case 's':
		s = s[:len(s)-1]
	case 'm':
		unit, s = time.Minute, s[:len(s)-1]
	case 'h':
		unit, s = time.Hour, s[:len(s)-1]
	case 'd':
		unit, s = 24*time.Hour, s[:len(s)-1]
	case 'w':
		unit, s = 7*24*time.Hour, s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("duration %q is not a number with an optional s/m/h/d/w suffix", orig)
	}
	return time.Duration(n * float64(unit)), nil
}
