//go:build !unix

package connlimit

import "errors"

// FileLimit has no descriptor limit to read on this system.
func FileLimit() (uint64, error) { return 0, errors.New("connlimit: no RLIMIT_NOFILE on this system") }
