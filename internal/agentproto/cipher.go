package agentproto

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"sync"

	"golang.org/x/crypto/blowfish"
)

// Encryption layer (spec §4.3). Both IVs are constants, the same for every
// message; the reference does this and interoperability requires it.
//
//	            AES-256-CBC                        Blowfish-CBC
//	key         32 ASCII bytes md5hex(raw)         47 ASCII bytes (EncryptionKey)
//	IV          "FEDCBA0987654321" (ASCII, 16 B)   fe dc ba 98 76 54 32 10
//	padding     PKCS#7 to 16, always 1..16 bytes   none (input is a multiple of 8)
//	token       "#AES:" before the ciphertext      ":" before the ciphertext
const (
	aesIV   = "FEDCBA0987654321"
	tokAES  = "#AES:"
	tokBF   = ":"
	tokAES4 = "#AES"
)

var bfIV = []byte{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}

// Method is the cipher of a secure message.
type Method uint8

// The two methods of the 4.x protocol; the manager answers an agent with the
// method of the last message it received from it.
const (
	MethodAES Method = iota + 1
	MethodBlowfish
)

// String names the method as ossec.conf does.
func (m Method) String() string {
	switch m {
	case MethodAES:
		return "aes"
	case MethodBlowfish:
		return "blowfish"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Key holds the ciphers derived from one client.keys entry. It is safe for
// concurrent use. The Blowfish cipher is derived on first use: its 4 KiB of
// state per agent would be most of a manager's memory, and agents use AES
// unless configured otherwise.
type Key struct {
	aes    cipher.Block
	ek     string
	bfOnce sync.Once
	bf     cipher.Block
}

// NewKey derives the AES and Blowfish ciphers of an agent (spec §3.2).
func NewKey(id, name, raw string) (*Key, error) {
	ek := EncryptionKey(id, name, raw)
	a, err := aes.NewCipher([]byte(ek[:32]))
	if err != nil {
		return nil, fmt.Errorf("agentproto: aes key: %w", err)
	}
	return &Key{aes: a, ek: ek}, nil
}

// blowfish returns the Blowfish cipher, deriving it once. The key is always
// 47 bytes, which Blowfish accepts (1 to 56).
func (k *Key) blowfish() cipher.Block {
	k.bfOnce.Do(func() { k.bf, _ = blowfish.NewCipher([]byte(k.ek)) })
	return k.bf
}

// encrypt appends the crypto token and the ciphertext of p (already '!'-padded
// to a multiple of 8) to dst.
func (k *Key) encrypt(dst, p []byte, m Method) ([]byte, error) {
	switch m {
	case MethodAES:
		pad := aes.BlockSize - len(p)%aes.BlockSize
		dst = append(dst, tokAES...)
		start := len(dst)
		dst = append(dst, p...)
		for i := 0; i < pad; i++ {
			dst = append(dst, byte(pad))
		}
		ct := dst[start:]
		cipher.NewCBCEncrypter(k.aes, []byte(aesIV)).CryptBlocks(ct, ct)
		return dst, nil
	case MethodBlowfish:
		dst = append(dst, tokBF...)
		start := len(dst)
		dst = append(dst, p...)
		ct := dst[start:]
		cipher.NewCBCEncrypter(k.blowfish(), bfIV).CryptBlocks(ct, ct)
		return dst, nil
	}
	return nil, ErrUnknownMethod
}

// splitToken reads the crypto token at the start of body the way ReadSecMSG
// does: "#AES" selects AES, anything else Blowfish, and a ':' must follow.
func splitToken(body []byte) (Method, []byte, error) {
	m := MethodBlowfish
	if len(body) >= 4 && string(body[:4]) == tokAES4 {
		m, body = MethodAES, body[4:]
	}
	if len(body) == 0 || body[0] != ':' {
		return 0, nil, ErrBadCryptoToken
	}
	return m, body[1:], nil
}

// decrypt returns the plaintext of ct in a new slice; for AES the PKCS#7
// padding is checked and removed.
func (k *Key) decrypt(ct []byte, m Method) ([]byte, error) {
	var blk cipher.Block
	var iv []byte
	switch m {
	case MethodAES:
		blk, iv = k.aes, []byte(aesIV)
	case MethodBlowfish:
		blk, iv = k.blowfish(), bfIV
	default:
		return nil, ErrUnknownMethod
	}
	bs := blk.BlockSize()
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, ErrCiphertextSize
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(pt, ct)
	if m != MethodAES {
		return pt, nil
	}
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > bs {
		return nil, ErrBadPadding
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, ErrBadPadding
		}
	}
	return pt[:len(pt)-pad], nil
}
