package build

import (
	"fmt"
	"path/filepath"
	"strings"

	"cpk/internal/base"
	"cpk/internal/fsx"
)

// ConfigFile is the repository's build configuration, beside apps/.
const ConfigFile = "cpk-build.yaml"

// Config is cpk-build.yaml, strictly decoded (unknown keys are errors):
//
//	offline: true               # FROM cloudron/base|node-base|php-base → the local base
//	map:                        # or per repository: an image reference, or "local"
//	  cloudron/base: local
//	jobs: 2                     # parallel builds (-j)
//	buildArgs:                  # --build-arg for every package
//	  NODE_ENV: production
type Config struct {
	Offline   bool              `yaml:"offline"`
	Map       map[string]string `yaml:"map"`
	Jobs      int               `yaml:"jobs"`
	BuildArgs map[string]string `yaml:"buildArgs"`
}

// LoadConfig reads root/cpk-build.yaml; a missing file is the zero Config.
func LoadConfig(root string) (*Config, error) {
	path := filepath.Join(root, ConfigFile)
	var c Config
	if _, err := fsx.ReadYAML(path, &c); err != nil {
		return nil, err
	}
	if c.Jobs < 0 {
		return nil, fmt.Errorf("%s: jobs: %d is not a number of parallel builds", path, c.Jobs)
	}
	for from, to := range c.Map {
		if strings.ContainsAny(from, ":@") {
			return nil, fmt.Errorf("%s: map: %q: give the repository without tag or digest (e.g. cloudron/base)", path, from)
		}
		if to == "" {
			return nil, fmt.Errorf("%s: map: %s: give an image reference or %q", path, from, base.Local)
		}
	}
	return &c, nil
}
