package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
)

// AuthFiles are the engines' auth files, in the order podman reads them:
// $REGISTRY_AUTH_FILE (which replaces the first default),
// ${XDG_RUNTIME_DIR}/containers/auth.json, then
// ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json. Docker's
// config.json ($DOCKER_CONFIG, else ~/.docker) comes after them, read by
// go-containerregistry's default keychain, credential helpers included.
func AuthFiles() []string {
	var files []string
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, f)
	} else if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg = filepath.Join(home, ".config")
		}
	}
	if cfg != "" {
		files = append(files, filepath.Join(cfg, "containers", "auth.json"))
	}
	return files
}

// Keychain finds credentials in the engines' auth files (AuthFiles), then
// in Docker's configuration; a registry found in none is used anonymously.
func Keychain() authn.Keychain {
	return authn.NewMultiKeychain(fileKeychain{files: AuthFiles()}, authn.DefaultKeychain)
}

// fileKeychain reads podman's auth files: the most specific entry wins
// (host/namespace/app, then host/namespace…, then host), and the first
// file holding one.
type fileKeychain struct{ files []string }

func (k fileKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	var keys []string
	for key := r.String(); ; {
		keys = append(keys, key)
		i := strings.LastIndex(key, "/")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	if r.RegistryStr() != keys[len(keys)-1] {
		keys = append(keys, r.RegistryStr())
	}
	for _, path := range k.files {
		f, err := os.Open(path)
		if err != nil {
			continue // a missing or unreadable file holds nothing for us
		}
		cf, err := config.LoadFromReader(f)
		f.Close()
		if err != nil {
			// The error names the file, never its contents.
			return nil, fmt.Errorf("auth file %s: not valid JSON", path)
		}
		for _, key := range keys {
			ac, err := cf.GetAuthConfig(key)
			if err != nil {
				return nil, fmt.Errorf("auth file %s: the entry for %s cannot be read", path, key)
			}
			ac.ServerAddress = ""
			if ac != (types.AuthConfig{}) {
				return authn.FromConfig(authn.AuthConfig{
					Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
					IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
				}), nil
			}
		}
	}
	return authn.Anonymous, nil
}
