//go:build !linux

package remoted

// poller is Linux's epoll reader; elsewhere every connection has its goroutine.
type poller struct{}

func newPollers(*Server, int) []*poller { return nil }
func (*poller) add(*tcpConn) error      { return nil }
func (*poller) remove(*tcpConn)         {}
func (*poller) stop()                   {}

func (tc *tcpConn) peerClosed() bool { return tc.closed.Load() }
