package cloudronapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// TokenEnv is the environment variable that holds the API token.
const TokenEnv = "CPK_CLOUDRON_TOKEN"

// ConfigEnv overrides the config file's path.
const ConfigEnv = "CPK_CLOUDRON_CONFIG"

// ConfigPath is the config file that keeps tokens by server:
// $CPK_CLOUDRON_CONFIG, else the user's config folder's cpk/cloudron.json
// (~/.config/cpk/cloudron.json on Linux).
func ConfigPath() (string, error) {
	if p := os.Getenv(ConfigEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "cpk", "cloudron.json"), nil
}

// Config is the file's content:
//
//	{"servers": {"https://my.example.com": {"token": "…"}}}
type Config struct {
	Servers map[string]ServerConfig `json:"servers"`
}

// ServerConfig is what the file keeps for one server.
type ServerConfig struct {
	Token string `json:"token"`
}

// Token finds the API token for a server: $CPK_CLOUDRON_TOKEN, else the
// server's entry in the config file, which must be readable by its owner
// only (0600). It never comes from a command-line flag: flags end up in
// shell history and process listings. where says where the token came from.
func Token(server string) (token, where string, err error) {
	if t := strings.TrimSpace(os.Getenv(TokenEnv)); t != "" {
		return t, TokenEnv, nil
	}
	u, err := ParseServer(server)
	if err != nil {
		return "", "", err
	}
	path, err := ConfigPath()
	if err != nil {
		return "", "", fmt.Errorf("no API token: set %s (%v)", TokenEnv, err)
	}
	help := fmt.Sprintf("make a token in the Cloudron's dashboard (Profile → API Tokens, read-write) and set %s, or keep it in %s as {\"servers\": {%q: {\"token\": \"…\"}}} with mode 0600", TokenEnv, path, u.String())
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("no API token for %s: %s", u, help)
	}
	if err != nil {
		return "", "", fmt.Errorf("the token file: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", "", fmt.Errorf("%s is readable by others (mode %04o): it holds API tokens, so cpk refuses it; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("the token file: %w", err)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return "", "", fmt.Errorf("%s: %v (expected {\"servers\": {\"https://host\": {\"token\": \"…\"}}})", path, err)
	}
	for key, sc := range cfg.Servers {
		ku, err := ParseServer(key)
		if err != nil {
			return "", "", fmt.Errorf("%s: server %q: %v", path, key, err)
		}
		if ku.String() == u.String() && strings.TrimSpace(sc.Token) != "" {
			return strings.TrimSpace(sc.Token), path, nil
		}
	}
	return "", "", fmt.Errorf("no API token for %s in %s: %s", u, path, help)
}
