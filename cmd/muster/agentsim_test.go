package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestAgentSimEnrollOnlyFailsWhenEnrollmentsFail: an enrollment run whose
// enrollments are refused exits 1 and says how many failed, so a script
// does not go on with agents that do not exist.
func TestAgentSimEnrollOnlyFailsWhenEnrollmentsFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now: every enrollment is refused
	r := run(t, context.Background(), agentSimCmd(), "--agents", "3", "--enroll-only", "--manager", "127.0.0.1",
		"--enroll-port", strconv.Itoa(port))
	if r.code != 1 || !strings.Contains(r.stderr, "3 of 3 enrollments failed") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
