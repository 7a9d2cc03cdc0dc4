package coverage

import (
	"fmt"
)

// Walk guards a paged read against the API faults that would make it
// silently wrong: a cursor or next link that comes back (the walk would loop
// or skip), a record that comes twice (offset paging over a changing list
// shifts, so another record was skipped), and more or fewer records than the
// API said it holds. Each is an error, never a shorter list: a partial walk
// must not turn into findings. A Walk is used by one goroutine.
type Walk struct {
	Source string // the source's name, for the messages

	cursors  map[string]struct{}
	ids      map[string]struct{}
	declared int
	pages    int
}

// Page notes that the page at cursor (a cursor, offset, page number or next
// link, as the API pages) is about to be read; it fails when the walk has
// read it before.
func (w *Walk) Page(cursor string) error {
	if w.cursors == nil {
		w.cursors = map[string]struct{}{}
	}
	if _, dup := w.cursors[cursor]; dup {
		return fmt.Errorf("source %s: the API sent the page %q again after %d pages: its paging loops, so the walk stopped rather than report a partial list", w.Source, cursor, w.pages)
	}
	w.cursors[cursor] = struct{}{}
	w.pages++
	return nil
}

// Record notes one record id; it fails when the id came before.
func (w *Walk) Record(id string) error {
	if w.ids == nil {
		w.ids = map[string]struct{}{}
	}
	if _, dup := w.ids[id]; dup {
		return fmt.Errorf("source %s: record %q came twice (page %d): the list changed while it was read, so some record may have been skipped; run again", w.Source, id, w.pages)
	}
	w.ids[id] = struct{}{}
	if w.declared > 0 && len(w.ids) > w.declared {
		return fmt.Errorf("source %s: the API said it holds %d records but sent more; its count or its paging is wrong, so the walk stopped", w.Source, w.declared)
	}
	return nil
}

// Declare notes the total the API says it holds; negative: it does not say.
func (w *Walk) Declare(total int) { w.declared = total }

// Count is how many records were noted.
func (w *Walk) Count() int { return len(w.ids) }

// Done checks the end of the walk against the declared total.
func (w *Walk) Done() error {
	if w.declared > 0 && len(w.ids) < w.declared {
		return fmt.Errorf("source %s: the API said it holds %d records but the pages held %d; the walk is incomplete", w.Source, w.declared, len(w.ids))
	}
	return nil
}
