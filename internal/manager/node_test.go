package manager

import (
	"testing"
	"time"
)

func TestOssecArchiveNames(t *testing.T) {
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if got := ossecArchive(day, 0); got != "wazuh/2026/Dec/ossec-07.log.gz" {
		t.Errorf("daily: %s", got)
	}
	if got := ossecArchive(day, 2); got != "wazuh/2026/Dec/ossec-07-002.log.gz" {
		t.Errorf("size: %s", got)
	}
}
