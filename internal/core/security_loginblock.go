package core

import "github.com/muster-project/muster/internal/auth"

// LoginAttempts returns the store's shared count of failed logins when it
// keeps one (so the login block holds for every node on the store), else nil.
func (s *Security) LoginAttempts() auth.LoginAttemptStore {
	a, _ := s.store.(auth.LoginAttemptStore)
	return a
}
