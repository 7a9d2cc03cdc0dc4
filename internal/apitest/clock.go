// Package apitest starts real muster servers for tests (real store on SQLite
// in a temporary directory, real TLS, the real route table) and checks every
// request and response they see against Wazuh's OpenAPI document.
package apitest

import (
	"time"

	"github.com/muster-project/muster/internal/testclock"
)

// Clock is a settable clock for tests: time moves only when told to.
type Clock = testclock.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return testclock.New(t) }
