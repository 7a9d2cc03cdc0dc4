package client

import (
	"context"
	"time"
)

// SetSleep replaces the backoff sleep so tests can record delays instead of waiting.
func SetSleep(c *Client, f func(context.Context, time.Duration) error) { c.sleep = f }

// KeysetQuery exposes keysetQuery to the tests.
var KeysetQuery = keysetQuery
