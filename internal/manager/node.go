package manager

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/logfile"
)

// NodeInfo describes the running node to the /manager and /cluster
// endpoints: which of muster's parts stand for which Wazuh daemon, and the
// secure channel's counters. daemons returns the running daemons (nil
// before they start).
func NodeInfo(dataDir, uid string, started time.Time, daemons func() *Daemons) api.Node {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	return api.Node{
		Path: abs, UID: uid, Started: started, OssecLog: filepath.Join(abs, "logs", "ossec.log"),
		Running: func(daemon string) bool {
			d := daemons()
			switch daemon {
			case "wazuh-apid", "wazuh-db", "wazuh-monitord": // the API, the store, the disconnection sweep
				return true
			case "wazuh-remoted":
				return d != nil && d.Remote != nil
			case "wazuh-authd":
				return d != nil && d.Auth != nil
			}
			return false // the analysis engine's daemons, and clusterd
		},
		Remoted: func() (api.RemotedCounters, bool) {
			d := daemons()
			if d == nil || d.Remote == nil {
				return api.RemotedCounters{}, false
			}
			st := d.Remote.Stats()
			return api.RemotedCounters{
				TCPSessions: st.Connections.Load(), BytesReceived: st.BytesReceived.Load(), BytesSent: st.BytesSent.Load(),
				Keepalives: st.Keepalives.Load(), Startups: st.Startups.Load(), Shutdowns: st.Shutdowns.Load(),
				Requests: st.Requests.Load(), Events: st.Events.Load(), Pings: st.Pings.Load(),
				Unknown: st.Unknown.Load(), Discarded: st.Dropped.Load(), SentAcks: st.SentAcks.Load(),
				SentCommands: st.SentCommands.Load(), SentShared: st.SentShared.Load(),
			}, true
		},
	}
}

// InstallationUID reads etc/wazuh.uid, creating it (mode 0600) with a new
// random UUID on first start, as Wazuh does with its own.
func InstallationUID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "etc", "wazuh.uid")
	if b, err := os.ReadFile(path); err == nil {
		if uid := strings.TrimSpace(string(b)); uid != "" {
			return uid, nil
		}
	} else if !os.IsNotExist(err) {
		return "", fmt.Errorf("read the installation UID: %w", err)
	}
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	uid := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(uid+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the installation UID: %w", err)
	}
	return uid, nil
}

// openOssecLog opens logs/ossec.log, the operational log in Wazuh's
// format, rotated daily into logs/wazuh/<year>/<Mon>/ossec-<DD>.log.gz as
// Wazuh's monitord does (a size rotation would be ossec-<DD>-<NNN>.log.gz). Writes never wait for the disk: lines that cannot
// be written are dropped, counted and reported on the other handler.
func openOssecLog(dataDir string, other *slog.Logger) (*logfile.Writer, error) {
	return logfile.Open(logfile.Config{
		Dir: filepath.Join(dataDir, "logs"), Name: "ossec.log", Daily: true,
		Archive: ossecArchive,
		OnEvent: func(e logfile.Event) {
			if e.Ended {
				other.Warn("ossec.log: writing again", "lost_lines", e.Dropped)
			} else {
				other.Error("ossec.log: dropping lines", "err", e.Err, "dropped", e.Dropped)
			}
		},
	})
}

// ossecArchive names a rotated ossec.log as monitord does.
func ossecArchive(day time.Time, n int) string {
	name := fmt.Sprintf("ossec-%02d.log.gz", day.Day())
	if n > 0 {
		name = fmt.Sprintf("ossec-%02d-%03d.log.gz", day.Day(), n)
	}
	return filepath.Join("wazuh", strconv.Itoa(day.Year()), day.Month().String()[:3], name)
}
