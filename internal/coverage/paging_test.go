package coverage

import (
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	w := &Walk{Source: "s1"}
	w.Declare(3)
	for i, c := range []string{"", "c1"} {
		if err := w.Page(c); err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
	}
	for _, id := range []string{"a", "b"} {
		if err := w.Record(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Done(); err == nil || !strings.Contains(err.Error(), "said it holds 3 records but the pages held 2") {
		t.Fatalf("short walk: %v", err)
	}
	if err := w.Record("a"); err == nil || !strings.Contains(err.Error(), `record "a" came twice`) {
		t.Fatalf("repeat: %v", err)
	}
	if err := w.Page("c1"); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Fatalf("loop: %v", err)
	}
	if err := w.Record("c"); err != nil || w.Done() != nil || w.Count() != 3 {
		t.Fatalf("full walk: %v %v %d", err, w.Done(), w.Count())
	}
	if err := w.Record("d"); err == nil || !strings.Contains(err.Error(), "sent more") {
		t.Fatalf("overrun: %v", err)
	}
}

func TestWalkUndeclared(t *testing.T) {
	w := &Walk{Source: "s1"}
	w.Declare(-1)
	if err := w.Record("a"); err != nil || w.Done() != nil {
		t.Fatal(err)
	}
	var z Walk // a zero total is "not said" too: an empty answer has nothing to miss
	if err := z.Record("a"); err != nil || z.Done() != nil {
		t.Fatal(err)
	}
}
