package authd

// warn logs a refused input at warning level, at most ratelog.PerSecond
// times a second.
func (s *Server) warn(msg string, args ...any) { s.warns.Warn(s.log, msg, args...) }
