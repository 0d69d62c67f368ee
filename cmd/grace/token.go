package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"grace/engine"
)

// tokenFileName is the local API token's file in the data folder.
const tokenFileName = "api.token"

// tokenPath is where the local API token lives.
func tokenPath(cfg engine.Config) string {
	return filepath.Join(dataDir(cfg), tokenFileName)
}

// ensureToken returns api.token, or else the token in the data folder's
// api.token file, generating one (32 random bytes, hex, mode 0600) when the
// file does not exist yet. A token file readable by others is tightened to
// 0600 and logged.
func ensureToken(cfg engine.Config, log *slog.Logger) (string, error) {
	if t := strings.TrimSpace(cfg.API.Token); t != "" {
		return t, nil
	}
	path := tokenPath(cfg)
	if t, err := readTokenFile(path, log); err == nil {
		return t, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate API token: %w", err)
	}
	tok := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readTokenFile(path, log) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("create API token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write API token file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write API token file %s: %w", path, err)
	}
	log.Info("generated a local API token", "file", path)
	return tok, nil
}

// maxTokenFile bounds what a token file is read for: a token is 16 to
// 512 characters.
const maxTokenFile = 64 << 10

// readTokenFile reads a token file; an empty file is an error.
func readTokenFile(path string, log *slog.Logger) (string, error) {
	data, err := readRegularFile(path, maxTokenFile) // a FIFO there would hang the start, /dev/zero fill memory
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("read API token file %s: %w", path, err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("API token file %s is empty; delete it to generate a new token", path)
	}
	if !engine.ValidToken(tok) {
		return "", fmt.Errorf("API token file %s: %s; delete it to generate a new token", path, engine.TokenRule)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err == nil {
			log.Warn("API token file was readable by others; set it to mode 0600", "file", path)
		}
	}
	return tok, nil
}

// clientToken is the token the CLI sends: api.token, else the data
// folder's token file, else none (the server will answer 401). A token
// file holding what no token can (spaces, control characters) is an error
// naming the file: sent as it is, it would fail as an invalid header.
func clientToken(cfg engine.Config) (string, error) {
	if t := strings.TrimSpace(cfg.API.Token); t != "" {
		return t, nil
	}
	path := tokenPath(cfg)
	data, err := readRegularFile(path, maxTokenFile)
	var notFile *notRegularError
	switch {
	case errors.As(err, &notFile):
		return "", fmt.Errorf("API token file %s: %w", path, err)
	case err != nil:
		return "", nil // none to read: the server's 401 says so
	}
	tok := strings.TrimSpace(string(data))
	if !engine.ValidToken(tok) {
		return "", fmt.Errorf("API token file %s: %s; delete it and start grace serve to generate a new one", path, engine.TokenRule)
	}
	return tok, nil
}
