package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const wazuhKeysDir = "testdata/wazuh-4.14.7-keys"

// copyWazuhKeys copies the key files of a real Wazuh 4.14.7 manager to a new
// temporary directory.
func copyWazuhKeys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{PrivateKeyFile, PublicKeyFile} {
		data, err := os.ReadFile(filepath.Join(wazuhKeysDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkKeyFiles(t *testing.T, dir string, kp *KeyPair) {
	t.Helper()
	for _, name := range []string{PrivateKeyFile, PublicKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}
	privPEM, _ := os.ReadFile(filepath.Join(dir, PrivateKeyFile))
	pubPEM, _ := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("private key is not PKCS#8 PEM: %q", privPEM)
	}
	if !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("public key is not SPKI PEM: %q", pubPEM)
	}
	got, err := parseKeyPair(privPEM, pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Private.Equal(kp.Private) || !got.Public.Equal(kp.Public) {
		t.Error("files do not hold the returned key pair")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory has %d entries, want the two key files only", len(entries))
	}
}

func TestLoadOrCreateKeyPairCreatesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "security")
	kp, err := LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Private.Curve != elliptic.P521() || !kp.Private.PublicKey.Equal(kp.Public) {
		t.Fatal("generated key is not a matching P-521 pair")
	}
	checkKeyFiles(t, dir, kp)
	again, err := LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Private.Equal(kp.Private) {
		t.Error("second load generated a new key instead of reading the files")
	}
}

func TestLoadOrCreateKeyPairRegenerates(t *testing.T) {
	other, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		alter func(t *testing.T, dir string)
	}{
		{"private missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, PrivateKeyFile)) }},
		{"public missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, PublicKeyFile)) }},
		{"pair mismatched", func(t *testing.T, dir string) {
			der, _ := x509.MarshalPKIXPublicKey(other.Public)
			os.WriteFile(filepath.Join(dir, PublicKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyWazuhKeys(t)
			orig, err := LoadOrCreateKeyPair(dir)
			if err != nil {
				t.Fatal(err)
			}
			tc.alter(t, dir)
			kp, err := LoadOrCreateKeyPair(dir)
			if err != nil {
				t.Fatal(err)
			}
			if kp.Private.Equal(orig.Private) || kp.Public.Equal(other.Public) {
				t.Error("key pair was not regenerated")
			}
			checkKeyFiles(t, dir, kp)
		})
	}
}

func TestLoadOrCreateKeyPairErrors(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := x509.MarshalPKCS8PrivateKey(p256)
	p256Pub, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	cases := []struct{ name, priv, pub string }{
		{"garbage private", "not a key", ""},
		{"garbage public", "", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
		{"P-256 private", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p256DER})), ""},
		{"P-256 public", "", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p256Pub}))},
		{"certificate as public", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyWazuhKeys(t)
			if tc.priv != "" {
				os.WriteFile(filepath.Join(dir, PrivateKeyFile), []byte(tc.priv), 0o600)
			}
			if tc.pub != "" {
				os.WriteFile(filepath.Join(dir, PublicKeyFile), []byte(tc.pub), 0o600)
			}
			if _, err := LoadOrCreateKeyPair(dir); err == nil {
				t.Error("LoadOrCreateKeyPair accepted invalid key files")
			}
		})
	}
}

func TestLoadWazuhKeys(t *testing.T) {
	dir := copyWazuhKeys(t)
	before, _ := os.ReadFile(filepath.Join(dir, PrivateKeyFile))
	kp, err := LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, PrivateKeyFile))
	if !bytes.Equal(before, after) {
		t.Error("loading Wazuh's keys rewrote them")
	}
	now := time.Unix(1795599459, 0)
	c := Claims{Issuer: Issuer, Audience: Audience, NotBefore: now.Unix(), Expires: now.Unix() + 1800,
		Subject: "alice", RBACRoles: []int{100, 101}, RBACMode: "white"}
	tok, err := Sign(kp.Private, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(kp.Public, tok, now); err != nil {
		t.Errorf("token signed with Wazuh's key does not verify: %v", err)
	}
}

func TestSaveReplacesModeAndContent(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{PrivateKeyFile, PublicKeyFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kp, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if err := kp.Save(dir); err != nil {
		t.Fatal(err)
	}
	checkKeyFiles(t, dir, kp)
	if err := (&KeyPair{}).Save(dir); err == nil {
		t.Error("Save of an empty key pair succeeded")
	}
	if err := kp.Save(filepath.Join(dir, "missing")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}
