// Package agentproto holds the wire codecs spoken between Wazuh 4.x agents and
// a manager: the enrollment exchange of wazuh-authd (TCP 1515, text inside TLS),
// the client.keys format and the key derivation, the secure message layer of
// wazuh-remoted (TCP or UDP 1514: framing, AES or Blowfish, zlib, checksums,
// counters) and the control messages carried inside it (startup, keepalive,
// shutdown, ACK, shared-file push).
//
// The package is pure: it works on byte slices and readers, starts no
// goroutines, opens no sockets and imports no other muster package. Both sides
// are implemented, so the manager (internal/authd, internal/remoted) and the
// agent simulator (internal/agentsim) share one implementation.
//
// A 1514 server decodes a payload in the order of the reference (spec §4.8):
//
//	env, err := ParseEnvelope(payload)       // "!ID!" prefix, "#ping"
//	// look the agent up by env.AgentID (and IPRange.Contains) or by source IP
//	msg, method, err := key.Open(env.Body)   // token, decrypt, inflate, verify
//	err = counters.Check(msg.Global, msg.Local)
//	ctl, err := ParseAgentControl(msg.Payload)
//
// Every failure has its own sentinel error (see errors.go); WazuhCode maps them
// to the log codes the reference prints, so a server can log precisely.
package agentproto
