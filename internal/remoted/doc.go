// Package remoted is the secure channel of the manager: the server agents
// connect to on port 1514 (TCP by default, or UDP) once they hold a key,
// speaking Wazuh's remoted protocol through the codecs of agentproto.
//
// Byte layout of what arrives (protocols.md §4):
//
//	TCP frame:  uint32 little-endian length n (<= 65536) || n bytes payload
//	UDP:        one datagram = one payload
//	payload:    ["!" id "!"] ("#AES:" | ":") ciphertext, or the clear "#ping"
//
// Each payload is handled in the reference's order (protocols.md §4.8):
//
//  1. The agent is found by the "!ID!" prefix (its key IP must contain the
//     source address) or, without a prefix, by the exact source address
//     among single-host keys; unknown agents are dropped (1408, 1213).
//  2. A second live TCP connection with the same key is refused unless the
//     first was silent for connection_overtake_time.
//  3. The body is decrypted, inflated and checked; any failure closes the
//     connection, and nothing is ever answered to a bad message.
//  4. Startups and keepalives are answered with "#!-agent ack " at once, on
//     the connection that carried them, with the cipher the agent used;
//     shutdowns are recorded; events and requests need no answer.
//
// Connection state changes are coalesced and written to the registry once
// per flush interval (one transaction), where the agent's groups are also
// read; an agent whose merged.mg sum differs from its group's gets the file
// pushed ("#!-up file", chunks of 900 bytes, "#!-close file ").
//
// The key table is kept in memory and reloaded when the registry version
// changes; keys enrolled through the enrollment daemon are added at once
// (AddKey), and a message from an unknown agent triggers a rate-limited
// version check, so a key made by POST /agents is usable immediately too.
//
// Server implements core.AgentCommander: restart and reconnect reach the
// agents it holds a connection for.
package remoted
