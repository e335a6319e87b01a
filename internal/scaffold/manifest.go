package scaffold

import (
	"bytes"
	"encoding/json"
)

// manifest is CloudronManifest.json in the order packagers write it.
type manifest struct {
	ID              string         `json:"id"`
	Title           string         `json:"title"`
	Author          string         `json:"author"`
	Description     string         `json:"description"`
	Tagline         string         `json:"tagline"`
	Version         string         `json:"version"`
	UpstreamVersion string         `json:"upstreamVersion"`
	MinBoxVersion   string         `json:"minBoxVersion"`
	ManifestVersion int            `json:"manifestVersion"`
	HTTPPort        int            `json:"httpPort"`
	HealthCheckPath string         `json:"healthCheckPath"`
	MemoryLimit     int64          `json:"memoryLimit,omitempty"`
	OptionalSso     bool           `json:"optionalSso,omitempty"`
	Addons          map[string]any `json:"addons"`
	Changelog       string         `json:"changelog"`
	Icon            string         `json:"icon"`
	Website         string         `json:"website,omitempty"`
	Tags            []string       `json:"tags,omitempty"`
}

// manifestJSON builds the manifest: encoding/json keeps it valid JSON
// whatever the title, and the addons in alphabetical order.
func manifestJSON(d *data) ([]byte, error) {
	m := manifest{
		ID: d.ManifestID, Title: d.Title, Author: d.Title + " authors",
		Description: "file://DESCRIPTION.md", Tagline: d.Title + " on Cloudron",
		Version: d.Version, UpstreamVersion: d.UpstreamVersion, MinBoxVersion: "8.0.0",
		ManifestVersion: 2, HTTPPort: 8000, HealthCheckPath: d.Health, MemoryLimit: d.R.Memory,
		OptionalSso: d.SSO, Addons: map[string]any{},
		Changelog: "file://CHANGELOG", Icon: "file://icon.png", Website: d.Website,
	}
	for _, a := range d.Addons {
		switch a {
		case "oidc":
			m.Addons[a] = map[string]string{"loginRedirectUri": oidcCallback}
		case "scheduler":
			m.Addons[a] = map[string]any{"housekeeping": map[string]string{
				"schedule": "*/30 * * * *",
				"command":  "/usr/local/bin/gosu cloudron:cloudron " + d.R.Cmd + " housekeeping",
			}}
		default:
			m.Addons[a] = map[string]any{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
