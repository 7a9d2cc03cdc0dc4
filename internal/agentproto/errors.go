package agentproto

import "errors"

// Framing and envelope errors (spec §4.1, §4.8 steps 2 and 6).
var (
	// ErrFrameTooLarge is a TCP length field above MaxFrameSize ("Too big message size").
	ErrFrameTooLarge = errors.New("agentproto: frame length exceeds 65536")
	// ErrBadIDPrefix is a "!" prefix not followed by digits and "!" (1403).
	ErrBadIDPrefix = errors.New("agentproto: malformed !ID! prefix")
	// ErrEmptyPayload is a payload with nothing after its prefix.
	ErrEmptyPayload = errors.New("agentproto: empty payload")
)

// Decryption errors (spec §4.3, §4.4, §4.8 step 7), in the order they are checked.
var (
	// ErrBadCryptoToken is a payload that starts with neither "#AES:" nor ":" (1403).
	ErrBadCryptoToken = errors.New("agentproto: missing #AES: or : crypto token")
	// ErrCiphertextSize is a ciphertext that is empty or not a whole number of blocks (1404).
	ErrCiphertextSize = errors.New("agentproto: ciphertext is not a whole number of blocks")
	// ErrBadPadding is an AES plaintext whose PKCS#7 padding is invalid: usually a wrong key (1404).
	ErrBadPadding = errors.New("agentproto: bad PKCS#7 padding (wrong key?)")
	// ErrLegacyFormat is the uncompressed pre-4.x OSSEC format (first plaintext byte ':').
	ErrLegacyFormat = errors.New("agentproto: legacy uncompressed message format not supported")
	// ErrBadKey is a plaintext that does not start with '!': the key is wrong (1404).
	ErrBadKey = errors.New("agentproto: plaintext lacks the ! marker (wrong key)")
	// ErrInflate is a zlib stream that does not decompress (2202).
	ErrInflate = errors.New("agentproto: zlib stream does not decompress")
	// ErrInflatedTooLarge is a zlib stream that inflates beyond MaxInflatedSize (2202).
	ErrInflatedTooLarge = errors.New("agentproto: inflated message exceeds 65536 bytes")
	// ErrShortMessage is an inflated message shorter than the 53-byte inner header (1406).
	ErrShortMessage = errors.New("agentproto: inflated message shorter than 53 bytes")
	// ErrChecksum is an MD5 that does not match the inner text (1406).
	ErrChecksum = errors.New("agentproto: checksum mismatch")
	// ErrBadFormat is an inner header without ':' at offset 47 or 52 (1403).
	ErrBadFormat = errors.New("agentproto: incorrectly formatted message")
)

// Counter errors (spec §4.6), returned by Counters.Check when verification is on.
var (
	// ErrDuplicateCounter is a counter pair not above the last one, same global (1407).
	ErrDuplicateCounter = errors.New("agentproto: duplicated counter")
	// ErrOldCounter is a global counter below the last one; Wazuh treats it as a wrong key (1404).
	ErrOldCounter = errors.New("agentproto: counter older than the last message")
)

// Encoding errors.
var (
	// ErrPayloadSize is a payload that is empty or longer than MaxPayloadSize.
	ErrPayloadSize = errors.New("agentproto: payload must be 1..65408 bytes")
	// ErrUnknownMethod is a Method other than MethodAES and MethodBlowfish.
	ErrUnknownMethod = errors.New("agentproto: unknown crypto method")
)

// Control-message, key and address errors.
var (
	// ErrInvalidKeepalive is a keepalive without any LF ("Invalid message from agent"); it gets no ACK.
	ErrInvalidKeepalive = errors.New("agentproto: keepalive without a newline")
	// ErrBadRequest is a "#!-req" message without a space after its counter.
	ErrBadRequest = errors.New("agentproto: request control format error")
	// ErrNotControl is a payload that does not start with "#!-".
	ErrNotControl = errors.New("agentproto: not a control message")
	// ErrInvalidIP is an address Wazuh's validator refuses.
	ErrInvalidIP = errors.New("agentproto: invalid IP address")
	// ErrInvalidKeyLine is a client.keys line that does not have the expected fields.
	ErrInvalidKeyLine = errors.New("agentproto: invalid client.keys line")
	// ErrBinaryFile is shared-file content holding a NUL byte, which the chunked push cannot carry.
	ErrBinaryFile = errors.New("agentproto: shared file contains NUL bytes")
	// ErrRequestTooLong is an enrollment request with no LF within MaxEnrollRequestSize bytes.
	ErrRequestTooLong = errors.New("agentproto: enrollment request has no newline within 69632 bytes")
	// ErrUnexpectedReply is an enrollment reply that is neither a key nor an error.
	ErrUnexpectedReply = errors.New("agentproto: unexpected enrollment reply")
)

// WazuhCode returns the log code the reference manager prints for a decoding
// failure (1403 format, 1404 key, 1406 checksum, 1407 counter, 2202 inflate),
// or 0 when the error has none.
func WazuhCode(err error) int {
	switch {
	case errors.Is(err, ErrBadIDPrefix), errors.Is(err, ErrBadCryptoToken), errors.Is(err, ErrBadFormat):
		return 1403
	case errors.Is(err, ErrCiphertextSize), errors.Is(err, ErrBadPadding), errors.Is(err, ErrBadKey),
		errors.Is(err, ErrOldCounter), errors.Is(err, ErrLegacyFormat):
		return 1404
	case errors.Is(err, ErrShortMessage), errors.Is(err, ErrChecksum):
		return 1406
	case errors.Is(err, ErrDuplicateCounter):
		return 1407
	case errors.Is(err, ErrInflate), errors.Is(err, ErrInflatedTooLarge):
		return 2202
	}
	return 0
}
