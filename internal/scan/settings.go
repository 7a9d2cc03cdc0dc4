package scan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/muster-project/muster/client"
)

// Settings are the manager settings a scan used, each with where it came from.
type Settings struct {
	ManagerVersion    string  `json:"manager_version"`
	VersionSource     string  `json:"manager_version_source"`
	APIVersion        string  `json:"api_version"`
	Hostname          string  `json:"hostname,omitempty"`
	NotifyTime        Setting `json:"notify_time"`
	StaleAfter        Setting `json:"stale_after"`
	DisconnectionTime Setting `json:"agents_disconnection_time"`
	NeverConnected    Setting `json:"never_connected_grace"`
	ClockSkew         float64 `json:"manager_clock_ahead_seconds"`
	ReferenceTime     string  `json:"reference_time"`
}

// Setting is a duration and the source of its value.
type Setting struct {
	Seconds float64 `json:"seconds"`
	Source  string  `json:"source"`
}

func setting(d time.Duration, src string) Setting { return Setting{Seconds: d.Seconds(), Source: src} }

// Duration returns the setting as a time.Duration.
func (s Setting) Duration() time.Duration { return time.Duration(s.Seconds * float64(time.Second)) }

// Defaults Wazuh ships, by version (anchors.md E1).
const (
	notifyTimeNew      = 20 * time.Second // agents since 4.13.0
	notifyTimeOld      = 10 * time.Second
	disconnectionNew   = 15 * time.Minute // manager since 4.13.0
	disconnectionOld   = 10 * time.Minute
	staleFactor        = 3
	minSkewWorthNoting = 10 * time.Second
)

var v413 = Version{4, 13, 0}

// readSettings asks the manager for its version and agents_disconnection_time,
// measures its clock, and derives the classification rules.
func readSettings(ctx context.Context, c *client.Client, o *Options) (Settings, Rules, []string, error) {
	var s Settings
	var notes []string
	sent := o.now()
	info, err := c.Info(ctx)
	if err != nil {
		return s, Rules{}, nil, fmt.Errorf("reading the API's identity (GET /): %w", err)
	}
	recv := o.now()
	s.APIVersion, s.Hostname = info.APIVersion, info.Hostname
	local := sent.Add(recv.Sub(sent) / 2)
	ref := recv
	if ts, perr := time.Parse(time.RFC3339, info.Timestamp); perr == nil {
		skew := ts.Sub(local).Truncate(time.Second)
		if skew.Abs() >= 2*time.Second {
			s.ClockSkew = skew.Seconds()
			ref = recv.Add(skew)
		}
		if skew.Abs() >= minSkewWorthNoting {
			notes = append(notes, fmt.Sprintf("the manager's clock is %s %s this machine's: ages are measured on the manager's clock",
				FormatAge(skew.Abs()), map[bool]string{true: "ahead of", false: "behind"}[skew > 0]))
		}
	}

	mv, src := "", ""
	mi, err := c.ManagerInfo(ctx)
	switch {
	case err == nil && mi.Version != "":
		mv, src = string(mi.Version), "GET /manager/info"
	case err != nil && !fallback(ctx, err):
		return s, Rules{}, nil, fmt.Errorf("reading the manager's version (GET /manager/info): %w", err)
	default:
		mv, src = info.APIVersion, "GET / api_version (GET /manager/info: "+short(err)+")"
		notes = append(notes, "manager version taken from the API version: "+short(err)+" on GET /manager/info")
	}
	s.ManagerVersion, s.VersionSource = mv, src
	ver := ParseVersion(mv)
	newer := ver.IsZero() || !ver.Less(v413)

	switch {
	case o.DisconnectionTime > 0:
		s.DisconnectionTime = setting(o.DisconnectionTime, "--disconnection-time")
	default:
		d, err := c.AgentsDisconnectionTime(ctx)
		switch {
		case err == nil && d > 0:
			s.DisconnectionTime = setting(d, "GET /manager/configuration")
		case err != nil && !fallback(ctx, err):
			return s, Rules{}, nil, fmt.Errorf("reading agents_disconnection_time (GET /manager/configuration): %w", err)
		default:
			d = disconnectionOld
			if newer {
				d = disconnectionNew
			}
			s.DisconnectionTime = setting(d, fmt.Sprintf("Wazuh's default for %s (GET /manager/configuration: %s)", versionClass(newer), short(err)))
			notes = append(notes, fmt.Sprintf("agents_disconnection_time is Wazuh's default %s: the manager did not report it (%s); set --disconnection-time if yours differs",
				FormatAge(d), short(err)))
		}
	}

	if o.NotifyTime > 0 {
		s.NotifyTime = setting(o.NotifyTime, "--notify-time")
	} else {
		n := notifyTimeOld
		if newer {
			n = notifyTimeNew
		}
		s.NotifyTime = setting(n, "Wazuh's agent default for "+versionClass(newer)+" (the API does not expose agents' notify_time; set --notify-time if yours differ)")
	}
	if o.StaleAfter > 0 {
		s.StaleAfter = setting(o.StaleAfter, "--stale-after")
	} else {
		st := min(staleFactor*s.NotifyTime.Duration(), s.DisconnectionTime.Duration())
		s.StaleAfter = setting(st, fmt.Sprintf("min(%d × notify_time, agents_disconnection_time)", staleFactor))
	}
	s.NeverConnected = setting(o.NeverConnectedGrace, "--never-connected-grace")
	s.ReferenceTime = ref.UTC().Format(time.RFC3339)

	rules := Rules{Now: ref, StaleAfter: s.StaleAfter.Duration(), NeverConnectedGrace: o.NeverConnectedGrace,
		Buckets: o.Buckets, ManagerVersion: ver}
	return s, rules, notes, nil
}

func versionClass(newer bool) string {
	if newer {
		return "Wazuh >= 4.13"
	}
	return "Wazuh < 4.13"
}

// fallback reports whether a failed settings read should fall back to
// defaults: the endpoint is missing, refused by RBAC or answers oddly. A dead
// connection, a refused login or a cancelled scan is not worked around.
func fallback(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, client.ErrConnection) || client.IsUnauthorized(err) || client.IsBlocked(err) {
		return false
	}
	return true
}

// short names an error in a few words for a note.
func short(err error) string {
	var e *client.Error
	switch {
	case err == nil:
		return "no value"
	case errors.As(err, &e) && e.Status == http.StatusForbidden:
		return "403 permission denied (manager:read)"
	case errors.As(err, &e) && e.Status > 0 && e.Status != http.StatusOK:
		return fmt.Sprintf("%d %s", e.Status, e.Title)
	case errors.As(err, &e):
		return e.Title
	}
	return err.Error()
}
