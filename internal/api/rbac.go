package api

// requireResourceless answers 403 unless the caller may run an action that
// applies to no resource (Wazuh's "*:*:*").
func (c *call) requireResourceless(action string) error {
	if c.sess.Perms.Can(action, "*:*:*") {
		return nil
	}
	return denied("*:*")
}
