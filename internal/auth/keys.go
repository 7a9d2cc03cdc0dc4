package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key file names inside the security directory, as Wazuh names them.
const (
	PrivateKeyFile = "private_key.pem"
	PublicKeyFile  = "public_key.pem"
)

// keyFileMode is the permission of both key files.
const keyFileMode = 0o600

// KeyPair is the P-521 key pair that signs and verifies API tokens.
type KeyPair struct {
	Private *ecdsa.PrivateKey
	Public  *ecdsa.PublicKey
}

// GenerateKeyPair returns a new random P-521 key pair.
func GenerateKeyPair() (*KeyPair, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	return &KeyPair{Private: priv, Public: &priv.PublicKey}, nil
}

// LoadOrCreateKeyPair reads the key pair from dir, or generates and saves a
// new one when either file is missing or the two files do not belong together.
func LoadOrCreateKeyPair(dir string) (*KeyPair, error) {
	privPEM, errPriv := os.ReadFile(filepath.Join(dir, PrivateKeyFile))
	pubPEM, errPub := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	missing := errors.Is(errPriv, fs.ErrNotExist) || errors.Is(errPub, fs.ErrNotExist)
	if !missing {
		if errPriv != nil {
			return nil, fmt.Errorf("auth: read private key: %w", errPriv)
		}
		if errPub != nil {
			return nil, fmt.Errorf("auth: read public key: %w", errPub)
		}
		kp, err := parseKeyPair(privPEM, pubPEM)
		if err != nil {
			return nil, err
		}
		if kp.Private.PublicKey.Equal(kp.Public) {
			return kp, nil
		}
		// A mismatched pair is what a crash between the two renames of Save
		// leaves behind: start over, as when a file is missing.
	}
	kp, err := GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: key directory: %w", err)
	}
	if err := kp.Save(dir); err != nil {
		return nil, err
	}
	return kp, nil
}

// parseKeyPair decodes a PKCS#8 (or SEC 1) private key and an SPKI public key,
// both P-521, from PEM.
func parseKeyPair(privPEM, pubPEM []byte) (*KeyPair, error) {
	block, _ := pem.Decode(privPEM)
	if block == nil {
		return nil, errors.New("auth: private key: no PEM block")
	}
	var priv *ecdsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: private key: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("auth: private key: %T is not ECDSA", k)
		}
		priv = ek
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: private key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("auth: private key: unexpected PEM type %q", block.Type)
	}
	if priv.Curve != elliptic.P521() {
		return nil, errors.New("auth: private key: curve is not P-521")
	}
	block, _ = pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("auth: public key: no PUBLIC KEY PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: public key: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P521() {
		return nil, errors.New("auth: public key: not an ECDSA P-521 key")
	}
	return &KeyPair{Private: priv, Public: pub}, nil
}

// Save writes the key pair to dir as private_key.pem (PKCS#8) and
// public_key.pem (SPKI), each replaced atomically with mode 0600.
func (k *KeyPair) Save(dir string) error {
	if k == nil || k.Private == nil || k.Public == nil {
		return errors.New("auth: save: incomplete key pair")
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return fmt.Errorf("auth: encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		return fmt.Errorf("auth: encode public key: %w", err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := writeFileAtomic(dir, PrivateKeyFile, privPEM); err != nil {
		return err
	}
	if err := writeFileAtomic(dir, PublicKeyFile, pubPEM); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeFileAtomic writes data to a temporary file in dir, syncs it and
// renames it over name, so readers see the old or the new file, never a part.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(keyFileMode); err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("auth: write %s: %w", name, err)
	}
	return nil
}

// syncDir flushes dir's entries so that the renames survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("auth: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("auth: sync %s: %w", dir, err)
	}
	return nil
}
