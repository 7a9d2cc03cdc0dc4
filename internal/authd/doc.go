// Package authd is the manager's enrollment daemon: agents open a TLS
// connection to port 1515, send one request line and get their key
// (protocols.md §2):
//
//	C->S  [OSSEC PASS: <pass> ]OSSEC A:'<name>'[ V:'<ver>'][ G:'<groups>'][ IP:'<ip>'|IP:'src'][ K:'<sha1>']\n
//	S->C  OSSEC K:'<id> <name> <ip> <key>'          (success, no newline)
//	S->C  ERROR: <reason>. Unable to add agent      (refusal)
//	S closes the connection after its one write.
//
// Parsing, validation and the exact reply texts are agentproto's; the
// registration itself goes through the same registry service as
// POST /agents (Registry, implemented by core.Agents), so both paths share
// ids, duplicate rules and client.keys. The server presents its own
// certificate (self-signed on first start), optionally requires a password
// (authd.pass semantics) and optionally verifies agent certificates.
package authd
