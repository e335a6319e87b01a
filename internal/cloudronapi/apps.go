package cloudronapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// App is an installed app as GET /apps/{appId} describes it (the fields cpk
// reads).
type App struct {
	ID                string          `json:"id"`
	AppStoreID        string          `json:"appStoreId,omitempty"`
	InstallationState string          `json:"installationState"`
	RunState          string          `json:"runState"`
	Health            string          `json:"health"`
	Error             json.RawMessage `json:"error,omitempty"` // a string in the description, an object on real servers
	TaskID            ID              `json:"taskId,omitempty"`
	Subdomain         string          `json:"subdomain"`
	Domain            string          `json:"domain"`
	FQDN              string          `json:"fqdn"`
	// UpstreamURI is where cpk box serves the app on its machine
	// (http://127.0.0.1:PORT); a real Cloudron sets it only for proxy apps.
	UpstreamURI string      `json:"upstreamUri,omitempty"`
	Manifest    AppManifest `json:"manifest"`
}

// AppManifest is the part of an app's manifest cpk reads.
type AppManifest struct {
	ID          string `json:"id"`
	Version     string `json:"version"`
	DockerImage string `json:"dockerImage"`
	Title       string `json:"title"`
}

// Installation states and health values of the platform.
const (
	StateInstalled = "installed"
	StateError     = "error"
	RunRunning     = "running"
	HealthHealthy  = "healthy"
)

// ErrorText is the app's error as text ("" for none).
func (a *App) ErrorText() string { return rawText(a.Error) }

// rawText renders an error field: a string, or an object's message.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		if o.Reason != "" && !strings.Contains(o.Message, o.Reason) {
			return o.Reason + ": " + o.Message
		}
		return o.Message
	}
	return snippet(raw)
}

// Location is the app's location, subdomain.domain.
func (a *App) Location() string {
	if a.Subdomain == "" {
		return a.Domain
	}
	return a.Subdomain + "." + a.Domain
}

// Address is where the app answers: https://FQDN on a real Cloudron; a
// local server reports a loopback address, with its port, answered over
// plain http: cpk box serve as the app's upstreamUri (its fqdn is the app's
// name on the box's domain), others as the fqdn itself.
func (a *App) Address() string {
	if u, err := url.Parse(a.UpstreamURI); err == nil && u.Scheme == "http" && IsLoopback(u.Hostname()) {
		return strings.TrimSuffix(a.UpstreamURI, "/")
	}
	host := a.FQDN
	if host == "" {
		host = a.Location()
	}
	if strings.Contains(host, "://") {
		return strings.TrimSuffix(host, "/")
	}
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	if IsLoopback(strings.Trim(h, "[]")) {
		return "http://" + host
	}
	return "https://" + host
}

func (a *App) check(method, path string) error {
	switch {
	case a.ID == "":
		return &ProtocolError{Method: method, Path: path, Field: "id", Problem: "missing"}
	case a.InstallationState == "":
		return &ProtocolError{Method: method, Path: path, Field: "installationState", Problem: "missing"}
	}
	return nil
}

// ListApps lists the apps of the server.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	var out struct {
		Apps *[]App `json:"apps"`
	}
	if err := c.do(ctx, http.MethodGet, "/apps", nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Apps == nil {
		return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + "/apps", Field: "apps", Problem: "missing"}
	}
	for i := range *out.Apps {
		if err := (*out.Apps)[i].check(http.MethodGet, BasePath+"/apps"); err != nil {
			pe := err.(*ProtocolError)
			pe.Field = fmt.Sprintf("apps.%d.%s", i, pe.Field)
			return nil, pe
		}
	}
	return *out.Apps, nil
}

// GetApp returns one app; an unknown id is an *APIError with status 404.
func (c *Client) GetApp(ctx context.Context, id string) (*App, error) {
	var a App
	path := "/apps/" + url.PathEscape(id)
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &a); err != nil {
		return nil, err
	}
	if err := a.check(http.MethodGet, BasePath+path); err != nil {
		return nil, err
	}
	return &a, nil
}

// Install is what POST /apps needs to install a custom app.
type Install struct {
	// Manifest is the package's CloudronManifest.json with dockerImage set.
	Manifest json.RawMessage
	// Icon is the app's icon (PNG), sent base64-encoded; nil for none.
	Icon      []byte
	Subdomain string
	Domain    string
}

// AccessRestriction is what cpk sends as the app's access restriction.
// The description requires an object here (users and groups allowed to log
// in through Cloudron's single sign-on); a new app gets none listed, so an
// administrator grants access in the dashboard (Access).
type AccessRestriction struct {
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// InstallApp starts installing an app and returns its id and task id.
func (c *Client) InstallApp(ctx context.Context, in Install) (appID, taskID string, err error) {
	if !json.Valid(in.Manifest) {
		return "", "", errors.New("install: the manifest is not valid JSON")
	}
	body := map[string]any{
		// The description requires appStoreId and manifest both; an empty
		// store id with a manifest installs a custom app.
		"appStoreId":        "",
		"manifest":          in.Manifest,
		"subdomain":         in.Subdomain,
		"domain":            in.Domain,
		"accessRestriction": AccessRestriction{Users: []string{}, Groups: []string{}},
	}
	if len(in.Icon) > 0 {
		body["icon"] = base64.StdEncoding.EncodeToString(in.Icon)
	}
	var out struct {
		ID     *string      `json:"id"`
		TaskID *json.Number `json:"taskId"`
	}
	if err := c.do(ctx, http.MethodPost, "/apps", nil, body, &out); err != nil {
		return "", "", err
	}
	if out.ID == nil || *out.ID == "" {
		return "", "", &ProtocolError{Method: http.MethodPost, Path: BasePath + "/apps", Field: "id", Problem: "missing"}
	}
	tid, err := taskStarted{TaskID: out.TaskID}.id(http.MethodPost, "/apps")
	return *out.ID, tid, err
}

// UpdateApp starts updating an app to a manifest (with dockerImage set).
func (c *Client) UpdateApp(ctx context.Context, id string, manifest json.RawMessage, force bool) (string, error) {
	body := map[string]any{"manifest": manifest, "skipBackup": false, "force": force}
	return c.startTask(ctx, "/apps/"+url.PathEscape(id)+"/update", body)
}

// UninstallApp starts uninstalling an app.
func (c *Client) UninstallApp(ctx context.Context, id string) (string, error) {
	return c.startTask(ctx, "/apps/"+url.PathEscape(id)+"/uninstall", nil)
}

// RestartApp starts restarting an app.
func (c *Client) RestartApp(ctx context.Context, id string) (string, error) {
	return c.startTask(ctx, "/apps/"+url.PathEscape(id)+"/restart", nil)
}

// RestoreApp starts restoring an app from one of its backups.
func (c *Client) RestoreApp(ctx context.Context, id, backupID string) (string, error) {
	return c.startTask(ctx, "/apps/"+url.PathEscape(id)+"/restore", map[string]string{"backupId": backupID})
}

// ConfigureLocation starts moving an app to another location.
func (c *Client) ConfigureLocation(ctx context.Context, id, subdomain, domain string) (string, error) {
	return c.startTask(ctx, "/apps/"+url.PathEscape(id)+"/configure/location", map[string]any{"subdomain": subdomain, "domain": domain})
}

// Backup is one backup of an app.
type Backup struct {
	ID             string `json:"id"`
	CreationTime   string `json:"creationTime"`
	PackageVersion string `json:"packageVersion"`
	State          string `json:"state"`
	Label          string `json:"label,omitempty"`
}

// CreateBackup starts a backup. The description has no route that backs
// up one app: POST /backups/create backs up the server's apps, each of
// which then lists its own backup.
func (c *Client) CreateBackup(ctx context.Context) (string, error) {
	return c.startTask(ctx, "/backups/create", nil)
}

// ListBackups lists an app's backups, newest first as the server gives
// them.
func (c *Client) ListBackups(ctx context.Context, appID string) ([]Backup, error) {
	path := "/apps/" + url.PathEscape(appID) + "/backups"
	var out struct {
		Backups *[]Backup `json:"backups"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Backups == nil {
		return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + path, Field: "backups", Problem: "missing"}
	}
	for i, b := range *out.Backups {
		if b.ID == "" {
			return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + path, Field: fmt.Sprintf("backups.%d.id", i), Problem: "missing"}
		}
	}
	return *out.Backups, nil
}

// Logs returns the last lines of an app's logs (format short: text).
func (c *Client) Logs(ctx context.Context, appID string, lines int) (string, error) {
	q := url.Values{"format": {"short"}}
	if lines > 0 {
		q.Set("lines", strconv.Itoa(lines))
	}
	var raw []byte
	if err := c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(appID)+"/logs", q, nil, &raw); err != nil {
		return "", err
	}
	return string(raw), nil
}

// Status is the server's version (GET /cloudron/status).
func (c *Client) Status(ctx context.Context) (string, error) {
	var out struct {
		Version string `json:"version"`
	}
	if err := c.do(ctx, http.MethodGet, "/cloudron/status", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Version, nil
}

// Domains lists the server's domains.
func (c *Client) Domains(ctx context.Context) ([]string, error) {
	var out struct {
		Domains *[]struct {
			Domain string `json:"domain"`
		} `json:"domains"`
	}
	if err := c.do(ctx, http.MethodGet, "/domains", nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Domains == nil {
		return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + "/domains", Field: "domains", Problem: "missing"}
	}
	var names []string
	for i, d := range *out.Domains {
		if d.Domain == "" {
			return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + "/domains", Field: fmt.Sprintf("domains.%d.domain", i), Problem: "missing"}
		}
		names = append(names, d.Domain)
	}
	return names, nil
}

// Task is a long operation's state (GET /tasks/{taskId}).
type Task struct {
	ID      ID              `json:"id"`
	Type    string          `json:"type,omitempty"`
	Percent float64         `json:"percent"`
	Message string          `json:"message"`
	Active  *bool           `json:"active"`
	Pending bool            `json:"pending"`
	Success bool            `json:"success"`
	Error   json.RawMessage `json:"error,omitempty"`
}

// Done reports whether the task has ended.
func (t *Task) Done() bool { return t.Active != nil && !*t.Active && !t.Pending }

// ErrorText is the task's error ("" for none).
func (t *Task) ErrorText() string { return rawText(t.Error) }

// GetTask returns a task.
func (c *Client) GetTask(ctx context.Context, id string) (*Task, error) {
	path := "/tasks/" + url.PathEscape(id)
	var t Task
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &t); err != nil {
		return nil, err
	}
	if t.Active == nil {
		return nil, &ProtocolError{Method: http.MethodGet, Path: BasePath + path, Field: "active", Problem: "missing"}
	}
	return &t, nil
}

// TaskError is a task that ended without success: its own error text.
type TaskError struct {
	ID, What, Message string
}

func (e *TaskError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "it failed and gave no error text"
	}
	return fmt.Sprintf("%s (task %s) failed: %s", e.What, e.ID, msg)
}

// WaitTask polls a task every interval (1 s when 0) until it ends;
// progress hears each change of percent or message. A task that ends
// without success is a *TaskError with the task's own error text.
func (c *Client) WaitTask(ctx context.Context, id, what string, interval time.Duration, progress func(*Task)) (*Task, error) {
	if interval <= 0 {
		interval = time.Second
	}
	var last string
	for {
		t, err := c.GetTask(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s: following task %s: %w", what, id, err)
		}
		if key := fmt.Sprintf("%.0f %s", t.Percent, t.Message); key != last && progress != nil {
			last = key
			progress(t)
		}
		if t.Done() {
			if !t.Success {
				return t, &TaskError{ID: id, What: what, Message: t.ErrorText()}
			}
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(interval):
		}
	}
}
