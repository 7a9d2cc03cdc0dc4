package authd

// Listening is the number of listeners the server accepts enrollments on:
// readiness checks that it holds its port.
func (s *Server) Listening() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return 0
	}
	return len(s.lns)
}
