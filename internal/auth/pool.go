package auth

import "context"

// Pool bounds how many expensive jobs (password hashing on login) run at
// once, so that a login flood cannot take every CPU and all memory from the
// other requests.
type Pool struct {
	slots chan struct{}
}

// NewPool returns a pool running at most size jobs at once (at least one).
func NewPool(size int) *Pool {
	return &Pool{slots: make(chan struct{}, max(size, 1))}
}

// Do waits for a free slot, runs fn in the calling goroutine and frees the
// slot; it returns ctx's error without running fn if ctx ends first.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}
