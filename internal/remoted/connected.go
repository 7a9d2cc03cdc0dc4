package remoted

import "time"

// ConnectedAgents counts the agents heard from within the disconnection
// time, by the transport of their reply path, for the metrics endpoint.
// It walks the key table, so call it at scrape time, not per message.
func (s *Server) ConnectedAgents() (tcp, udp int) {
	now := s.o.Now().UnixNano()
	s.keys.each(func(st *agentState) {
		st.mu.Lock()
		heard := st.lastRecv != 0 && time.Duration(now-st.lastRecv) <= s.o.DisconnectionTime
		onTCP, onUDP := st.conn != nil, st.udp.IsValid()
		st.mu.Unlock()
		switch {
		case !heard:
		case onTCP:
			tcp++
		case onUDP:
			udp++
		}
	})
	return tcp, udp
}

// Listening is the number of listeners (TCP and UDP) the server serves:
// readiness checks it against the configured protocols.
func (s *Server) Listening() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return len(s.listeners)
}
