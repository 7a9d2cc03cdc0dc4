package core

import "testing"

// The sweep runs on a single node, and on a cluster only while the gate
// (the node holds the master lease) says so.
func TestSweepGate(t *testing.T) {
	a := NewAgents(AgentsOptions{DataDir: t.TempDir()})
	if !a.sweeps() {
		t.Fatal("a node without a gate does not sweep")
	}
	master := false
	a.SetSweepGate(func() bool { return master })
	if a.sweeps() {
		t.Fatal("a worker sweeps")
	}
	master = true
	if !a.sweeps() {
		t.Fatal("the master does not sweep")
	}
	a.SetSweepGate(nil)
	master = false
	if !a.sweeps() {
		t.Fatal("clearing the gate does not restore the sweep")
	}
}
