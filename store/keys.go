package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The checkpoint signing key lives in the data folder: audit.key holds the
// ed25519 private key (PKCS #8, PEM, mode 0600) and audit.pub the public key
// (PKIX, PEM), which `openssl pkeyutl -verify` reads as it is.
const (
	keyFile = "audit.key"
	pubFile = "audit.pub"
)

// loadOrCreateKey returns the data folder's signing key, generating it on
// first use. Two processes racing to create it agree on one key: the file is
// created exclusively and the loser reads the winner's.
func loadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, keyFile)
	key, err := readPrivateKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			err = ensurePublicKey(dir, key.Public().(ed25519.PublicKey))
		}
		return key, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate audit key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode audit key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if created, err := createOnce(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write audit key: %w", err)
	} else if !created {
		return loadOrCreateKey(dir) // another process made one first
	}
	return key, ensurePublicKey(dir, key.Public().(ed25519.PublicKey))
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit key %s: %w", path, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("read audit key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read audit key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read audit key %s: not an ed25519 key", path)
	}
	return key, nil
}

// ensurePublicKey writes audit.pub when it is missing.
func ensurePublicKey(dir string, pub ed25519.PublicKey) error {
	path := filepath.Join(dir, pubFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode audit public key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if _, err := createOnce(path, data, 0o644); err != nil {
		return fmt.Errorf("write audit public key: %w", err)
	}
	return nil
}

// createOnce makes path hold data unless it exists already (created is then
// false). It writes a temporary file and links it into place, so the file
// appears whole or not at all.
func createOnce(path string, data []byte, perm os.FileMode) (created bool, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	werr = errors.Join(werr, tmp.Chmod(perm), tmp.Sync(), tmp.Close())
	if werr != nil {
		return false, fmt.Errorf("%s: %w", path, werr)
	}
	switch err := os.Link(tmp.Name(), path); {
	case errors.Is(err, fs.ErrExist):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// loadPublicKey returns the key checkpoints are verified with: audit.pub,
// or the public half of audit.key when only that is present. found is false
// when neither exists.
func loadPublicKey(dir string) (pub ed25519.PublicKey, found bool, err error) {
	path := filepath.Join(dir, pubFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := readPrivateKey(filepath.Join(dir, keyFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return key.Public().(ed25519.PublicKey), true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read audit public key %s: %w", path, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, false, fmt.Errorf("read audit public key %s: not a PEM public key", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("read audit public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, false, fmt.Errorf("read audit public key %s: not an ed25519 key", path)
	}
	return pub, true, nil
}
