package box

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
)

// Prefix is where the API lives, as on the platform (https://my.DOMAIN/api/v1).
const Prefix = "/api/v1"

// Handler serves the API: every route but GET /cloudron/status needs the
// token, as a bearer token or the access_token query parameter.
func (b *Box) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+Prefix+path, b.auth(http.HandlerFunc(h)))
	}
	mux.HandleFunc("GET "+Prefix+"/cloudron/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": APIVersion})
	})
	route("GET /apps", b.listApps)
	route("POST /apps", b.install)
	route("GET /apps/{appId}", b.getApp)
	route("POST /apps/{appId}/uninstall", b.uninstall)
	route("POST /apps/{appId}/update", b.update)
	route("POST /apps/{appId}/restart", b.restart)
	route("POST /apps/{appId}/restore", b.restore)
	route("POST /apps/{appId}/configure/location", b.configureLocation)
	route("GET /apps/{appId}/backups", b.appBackups)
	route("POST /apps/{appId}/backup", b.backupApp) // the platform's route, not in the description
	route("GET /apps/{appId}/logs", b.logs)
	route("GET /backups", b.listBackups)
	route("POST /backups/create", b.createBackups)
	route("GET /tasks/{taskId}", b.getTask)
	route("GET /domains", func(w http.ResponseWriter, _ *http.Request) {
		// One domain, whose names resolve nowhere: the apps are reached at
		// their upstreamUri.
		writeJSON(w, http.StatusOK, map[string]any{"domains": []map[string]any{
			{"domain": b.st.Domain, "zoneName": b.st.Domain, "provider": "noop", "config": map[string]any{}}}})
	})
	mux.Handle(Prefix+"/", b.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %s is not served by cpk's development box", r.Method, r.URL.Path))
	})))
	return mux
}

// auth answers 401 to a request without the box's token.
func (b *Box) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, v, _ := strings.Cut(h, " ")
			if strings.EqualFold(scheme, "Bearer") {
				tok = strings.TrimSpace(v)
			}
		}
		if tok == "" {
			writeError(w, http.StatusUnauthorized, "no token: send Authorization: Bearer <token> or ?access_token=<token>")
			return
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(b.o.Token)) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status":"Internal Server Error","message":"cannot encode the answer"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers the platform's error object.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"status": http.StatusText(code), "message": msg})
}

// readJSON decodes a request body; a bad one is answered 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "the request is not the JSON object expected: "+err.Error())
		return false
	}
	return true
}

// --- apps ---

// appView is an app as the API shows it (components/schemas/app.json).
type appView struct {
	ID                string            `json:"id"`
	AppStoreID        string            `json:"appStoreId"`
	InstallationState string            `json:"installationState"`
	Error             *string           `json:"error"`
	RunState          string            `json:"runState"`
	Health            string            `json:"health"`
	TaskID            string            `json:"taskId,omitempty"`
	Subdomain         string            `json:"subdomain"`
	Domain            string            `json:"domain"`
	FQDN              string            `json:"fqdn"`
	UpstreamURI       string            `json:"upstreamUri"`
	Manifest          json.RawMessage   `json:"manifest"`
	Ports             map[string]int    `json:"ports"`
	MemoryLimit       int64             `json:"memoryLimit"`
	AccessRestriction *string           `json:"accessRestriction"`
	Label             *string           `json:"label"`
	Tags              []string          `json:"tags"`
	Env               map[string]string `json:"env"`
	SecondaryDomains  []string          `json:"secondaryDomains"`
	RedirectDomains   []string          `json:"redirectDomains"`
	AliasDomains      []string          `json:"aliasDomains"`
	EnableBackup      bool              `json:"enableBackup"`
	CreationTime      string            `json:"creationTime"`
	UpdateTime        string            `json:"updateTime"`
	TS                string            `json:"ts"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// view shows an app; its run state and health are asked now (the caller
// holds no lock: the answer takes up to 3 s).
func (b *Box) view(ctx context.Context, as appState) appView {
	rec := as.Runtime
	v := appView{ID: rec.ID, AppStoreID: as.AppStoreID, InstallationState: as.InstallationState, RunState: "stopped", Health: "dead",
		Subdomain: rec.Location, Domain: b.st.Domain, FQDN: rec.Location + "." + b.st.Domain, Manifest: rec.Raw,
		Ports: map[string]int{}, Tags: []string{}, Env: map[string]string{}, SecondaryDomains: []string{}, RedirectDomains: []string{},
		AliasDomains: []string{}, EnableBackup: true, CreationTime: stamp(as.Created), UpdateTime: stamp(as.Updated), TS: stamp(as.Updated)}
	if as.Error != "" {
		e := as.Error
		v.Error = &e
	}
	if as.TaskID != 0 {
		v.TaskID = strconv.Itoa(as.TaskID)
	}
	var m struct {
		HealthCheckPath string `json:"healthCheckPath"`
		MemoryLimit     any    `json:"memoryLimit"`
	}
	_ = json.Unmarshal(rec.Raw, &m)
	if mm, err := decodeManifest(rec.Raw); err == nil {
		v.MemoryLimit = runtime.MemoryLimit(mm)
	}
	for k, p := range rec.PortEnv {
		if n, err := strconv.Atoi(p); err == nil && !strings.HasSuffix(k, "_COUNT") {
			v.Ports[k] = n
		}
	}
	if rec.Container == "" {
		return v
	}
	info, err := b.o.Engine.InspectContainer(ctx, rec.Container)
	if err != nil || !info.Running {
		return v
	}
	v.RunState = "running"
	if rec.HostPort == 0 {
		v.Health = "healthy"
		return v
	}
	v.UpstreamURI = "http://127.0.0.1:" + strconv.Itoa(rec.HostPort)
	v.Health = "unhealthy"
	if probe(ctx, v.UpstreamURI+m.HealthCheckPath, v.FQDN) {
		v.Health = "healthy"
	}
	return v
}

var probeClient = &http.Client{
	Timeout:       3 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// probe asks the health check once, as the platform does.
func probe(ctx context.Context, url, host string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Host = host
	req.Header.Set("User-Agent", runtime.HealthUserAgent)
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// lookup returns an app's state, or answers 404 (the caller holds mu).
func (b *Box) lookup(w http.ResponseWriter, id string) (*appState, bool) {
	for _, as := range b.st.Apps {
		if as.Runtime.ID == id {
			return as, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no app %s on this box (GET %s/apps lists them)", id, Prefix))
	return nil, false
}

func (b *Box) listApps(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	list := make([]appState, 0, len(b.st.Apps))
	for _, as := range b.st.Apps {
		list = append(list, *as)
	}
	b.mu.Unlock()
	views := make([]appView, 0, len(list))
	for _, as := range list {
		views = append(views, b.view(r.Context(), as))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": views})
}

func (b *Box) getApp(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	as, ok := b.lookup(w, r.PathValue("appId"))
	var cp appState
	if ok {
		cp = *as
	}
	b.mu.Unlock()
	if ok {
		writeJSON(w, http.StatusOK, b.view(r.Context(), cp))
	}
}

// installRequest is POST /apps (paths/apps.json).
type installRequest struct {
	AppStoreID  string          `json:"appStoreId"`
	Manifest    json.RawMessage `json:"manifest"`
	DockerImage string          `json:"dockerImage"` // also accepted inside the manifest, as the platform reads it
	Subdomain   *string         `json:"subdomain"`
	Domain      string          `json:"domain"`
}

// badField is a request field the box refuses (400).
type badField struct{ msg string }

func (e *badField) Error() string { return e.msg }

// parseManifest validates a manifest of a request and returns it with its
// image: the request's dockerImage, else the manifest's.
func parseManifest(raw json.RawMessage, image string) (manifest.Manifest, []byte, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return manifest.Manifest{}, nil, "", &badField{"manifest is required: the box installs custom apps from their CloudronManifest.json (with dockerImage); it has no App Store"}
	}
	rep := manifest.Check(raw, manifest.Options{})
	if !rep.Valid {
		e := rep.Errors[0]
		return manifest.Manifest{}, nil, "", &badField{fmt.Sprintf("manifest%s: %s", e.Pointer, e.Message)}
	}
	m := rep.Doc.Manifest()
	if image == "" {
		var withImage struct {
			DockerImage string `json:"dockerImage"`
		}
		_ = json.Unmarshal(raw, &withImage)
		image = withImage.DockerImage
	}
	if image == "" {
		return m, nil, "", &badField{"manifest.dockerImage is required: the image to run (cpk build prints it; cpk push puts it in a registry)"}
	}
	var names []string
	for n := range m.Addons {
		names = append(names, n)
	}
	if err := runtime.CheckAddons(names); err != nil {
		return m, nil, "", &badField{"manifest.addons: " + err.Error()}
	}
	return m, []byte(raw), image, nil
}

var subdomainRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkLocation validates a subdomain and domain (400) and finds the app
// that has it already (409); the caller holds mu.
func (b *Box) checkLocation(w http.ResponseWriter, sub *string, domain, self string) (string, bool) {
	if sub == nil || *sub == "" {
		writeError(w, http.StatusBadRequest, "subdomain is required: the box serves apps at SUBDOMAIN."+b.st.Domain)
		return "", false
	}
	if !subdomainRe.MatchString(*sub) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("subdomain %q: use lower-case letters, digits and inner hyphens, at most 63", *sub))
		return "", false
	}
	if domain != "" && domain != b.st.Domain {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("domain %q: this box has only the domain %s", domain, b.st.Domain))
		return "", false
	}
	for _, as := range b.st.Apps {
		if as.Runtime.ID != self && (as.Runtime.Location == *sub) {
			writeError(w, http.StatusConflict, fmt.Sprintf("location %s.%s is already in use by app %s", *sub, b.st.Domain, as.Runtime.ID))
			return "", false
		}
	}
	return *sub, true
}

// checkIdle answers 409 when the app has an unfinished task; the caller holds mu.
func (b *Box) checkIdle(w http.ResponseWriter, id string) bool {
	if t := b.busy(id); t != nil {
		writeError(w, http.StatusConflict, fmt.Sprintf("app %s is busy with task %d (%s): wait for it (GET %s/tasks/%d)", id, t.ID, t.Op, Prefix, t.ID))
		return false
	}
	return true
}

func (b *Box) install(w http.ResponseWriter, r *http.Request) {
	var req installRequest
	if !readJSON(w, r, &req) {
		return
	}
	m, raw, image, err := parseManifest(req.Manifest, req.DockerImage)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	loc, ok := b.checkLocation(w, req.Subdomain, req.Domain, "")
	if !ok {
		return
	}
	a := b.rt.NewApp(image, m, loc)
	a.Raw = raw
	now := time.Now()
	as := &appState{Runtime: a.Record(), AppStoreID: req.AppStoreID, InstallationState: statePendingInstall, Created: now, Updated: now}
	b.apps[a.ID] = a
	b.st.Apps = append(b.st.Apps, as)
	t := b.startTask("app", "install", a.ID, func(ctx context.Context, p *progress) error {
		p.say(10, "setting up the add-ons and starting %s", image)
		err := a.Install(ctx)
		if err == nil {
			b.pin(a)
		}
		if err != nil {
			// A failed install leaves nothing behind.
			p.say(90, "removing the failed install")
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if _, uerr := a.Uninstall(cctx); uerr != nil {
				b.logf("app %s: removing the failed install: %v", a.ID, uerr)
			}
		}
		return err
	}, func(err error) {
		if err != nil {
			b.forget(a.ID)
			return
		}
		b.settle(a, nil)
	})
	as.TaskID = t.ID
	b.saveLocked()
	writeJSON(w, http.StatusAccepted, map[string]any{"id": a.ID, "taskId": t.ID})
}

// pin keeps the app's published port from now on: its address stays the
// same across restarts and serve restarts.
func (b *Box) pin(a *runtime.App) {
	if a.PinPort == 0 && a.HostPort != 0 {
		a.PinPort = a.HostPort
	}
	b.mu.Lock()
	b.record(a)
	b.mu.Unlock()
}

// record copies the app's runtime record into the state (the caller holds mu).
func (b *Box) record(a *runtime.App) {
	for _, as := range b.st.Apps {
		if as.Runtime.ID == a.ID {
			as.Runtime = a.Record()
			as.Updated = time.Now()
		}
	}
	b.saveLocked()
}

// settle ends an app's task: installed, or error with the task's error
// (the caller holds mu).
func (b *Box) settle(a *runtime.App, err error) {
	b.apps[a.ID] = a
	for _, as := range b.st.Apps {
		if as.Runtime.ID == a.ID {
			as.Runtime = a.Record()
			as.Updated = time.Now()
			as.InstallationState, as.Error = stateInstalled, ""
			if err != nil {
				as.InstallationState, as.Error = stateError, err.Error()
			}
		}
	}
	b.saveLocked()
}

// forget drops an app from the state (the caller holds mu).
func (b *Box) forget(id string) {
	delete(b.apps, id)
	for i, as := range b.st.Apps {
		if as.Runtime.ID == id {
			b.st.Apps = append(b.st.Apps[:i], b.st.Apps[i+1:]...)
			break
		}
	}
	b.saveLocked()
}

// appTask starts a task on an existing app: it answers 404 for an unknown
// app and 409 for a busy one, sets the pending state and answers 202.
func (b *Box) appTask(w http.ResponseWriter, r *http.Request, op, pending string, prepare func(as *appState, a *runtime.App) bool, run func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error)) {
	id := r.PathValue("appId")
	b.mu.Lock()
	defer b.mu.Unlock()
	as, ok := b.lookup(w, id)
	if !ok || !b.checkIdle(w, id) {
		return
	}
	a := b.apps[id]
	if prepare != nil && !prepare(as, a) {
		return
	}
	as.InstallationState, as.Error = pending, ""
	var result *runtime.App
	t := b.startTask("app", op, id, func(ctx context.Context, p *progress) error {
		na, err := run(ctx, p, a)
		result = na
		return err
	}, func(err error) {
		na := result
		if na == nil {
			na = a
		}
		if op == "uninstall" && err == nil {
			b.forget(id)
			return
		}
		b.settle(na, err)
	})
	as.TaskID = t.ID
	b.saveLocked()
	writeJSON(w, http.StatusAccepted, map[string]any{"taskId": t.ID})
}

func (b *Box) uninstall(w http.ResponseWriter, r *http.Request) {
	b.appTask(w, r, "uninstall", statePendingUninst, nil, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		p.say(20, "stopping the app and removing its add-ons' data")
		_, err := a.Uninstall(ctx)
		return a, err
	})
}

func (b *Box) restart(w http.ResponseWriter, r *http.Request) {
	b.appTask(w, r, "restart", statePendingRestart, nil, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		p.say(20, "stopping the app")
		if _, err := a.Stop(ctx); err != nil {
			return a, err
		}
		p.say(50, "starting the app")
		if err := a.Start(ctx); err != nil {
			return a, err
		}
		b.pin(a)
		return a, nil
	})
}

// updateRequest is POST /apps/{appId}/update.
type updateRequest struct {
	AppStoreID  string          `json:"appStoreId"`
	Manifest    json.RawMessage `json:"manifest"`
	DockerImage string          `json:"dockerImage"`
	SkipBackup  bool            `json:"skipBackup"`
	Force       bool            `json:"force"`
}

func (b *Box) update(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if !readJSON(w, r, &req) {
		return
	}
	m, raw, image, err := parseManifest(req.Manifest, req.DockerImage)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	b.appTask(w, r, "update", statePendingUpdate, func(as *appState, a *runtime.App) bool {
		var cur struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(as.Runtime.Raw, &cur)
		if cur.ID != "" && m.ID != "" && cur.ID != m.ID && !req.Force {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("manifest.id %s is not the installed app's %s (force: true replaces it anyway)", m.ID, cur.ID))
			return false
		}
		return true
	}, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		if !req.SkipBackup {
			p.say(10, "backing the app up before the update")
			if err := b.backupOne(ctx, a); err != nil {
				return a, fmt.Errorf("the backup before the update: %w", err)
			}
		}
		p.say(40, "updating to %s (%s)", m.Version, image)
		if _, err := a.Reconfigure(ctx, image, m, a.Location); err != nil {
			return a, err
		}
		a.Raw = raw
		b.pin(a)
		return a, nil
	})
}

// locationRequest is POST /apps/{appId}/configure/location.
type locationRequest struct {
	Subdomain *string `json:"subdomain"`
	Domain    string  `json:"domain"`
}

func (b *Box) configureLocation(w http.ResponseWriter, r *http.Request) {
	var req locationRequest
	if !readJSON(w, r, &req) {
		return
	}
	var loc string
	b.appTask(w, r, "location", statePendingLocation, func(as *appState, a *runtime.App) bool {
		var ok bool
		loc, ok = b.checkLocation(w, req.Subdomain, req.Domain, as.Runtime.ID)
		if ok {
			// The new location is taken at once: another install cannot have it.
			as.Runtime.Location = loc
		}
		return ok
	}, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		p.say(20, "moving the app to %s.%s", loc, b.st.Domain)
		if _, err := a.Reconfigure(ctx, a.Image, a.Manifest, loc); err != nil {
			return a, err
		}
		b.pin(a)
		return a, nil
	})
}

// --- backups ---

// backupView is a backup as the API lists it (components/schemas/backups.json).
type backupView struct {
	ID                string          `json:"id"`
	RemotePath        string          `json:"remotePath"`
	Label             string          `json:"label"`
	Identifier        string          `json:"identifier"`
	CreationTime      string          `json:"creationTime"`
	PackageVersion    string          `json:"packageVersion"`
	Type              string          `json:"type"`
	State             string          `json:"state"`
	Format            string          `json:"format"`
	PreserveSecs      int             `json:"preserveSecs"`
	EncryptionVersion *int            `json:"encryptionVersion"`
	DependsOn         []string        `json:"dependsOn"`
	Manifest          json.RawMessage `json:"manifest"`
}

func (bk *backupState) view() backupView {
	return backupView{ID: bk.Backup.ID, RemotePath: bk.Backup.Archive, Identifier: bk.Backup.AppID, CreationTime: stamp(bk.Created),
		PackageVersion: bk.Version, Type: "app", State: "normal", Format: "tgz", DependsOn: []string{}, Manifest: bk.Manifest}
}

func (b *Box) appBackups(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	as, ok := b.lookup(w, r.PathValue("appId"))
	if !ok {
		return
	}
	list := []backupView{}
	for i := len(b.st.Backups) - 1; i >= 0; i-- { // newest first
		if bk := b.st.Backups[i]; bk.Backup.AppID == as.Runtime.ID {
			list = append(list, bk.view())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"backups": list})
}

func (b *Box) listBackups(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := []backupView{}
	for i := len(b.st.Backups) - 1; i >= 0; i-- {
		list = append(list, b.st.Backups[i].view())
	}
	writeJSON(w, http.StatusOK, map[string]any{"backups": list})
}

// backupOne backs an app up and records the backup.
func (b *Box) backupOne(ctx context.Context, a *runtime.App) error {
	bk, err := a.Backup(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Backups = append(b.st.Backups, &backupState{Backup: *bk, Manifest: a.Raw, Version: a.Manifest.Version, Created: time.Now()})
	b.saveLocked()
	return nil
}

// createBackups backs every installed app up (POST /backups/create).
func (b *Box) createBackups(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.st.Tasks {
		if t.Type == "backup" && (t.State == taskPending || t.State == taskActive) {
			writeError(w, http.StatusConflict, fmt.Sprintf("a backup runs already: task %d (GET %s/tasks/%d)", t.ID, Prefix, t.ID))
			return
		}
	}
	t := b.startTask("backup", "backup", "", func(ctx context.Context, p *progress) error {
		b.mu.Lock()
		var apps []*runtime.App
		for _, as := range b.st.Apps {
			if as.InstallationState == stateInstalled {
				apps = append(apps, b.apps[as.Runtime.ID])
			}
		}
		b.mu.Unlock()
		var errs []error
		for i, a := range apps {
			p.say(1+90*i/max(len(apps), 1), "backing up %s (%s)", a.ID, a.FQDN())
			if err := b.backupOne(ctx, a); err != nil {
				errs = append(errs, fmt.Errorf("app %s: %w", a.ID, err))
			}
		}
		return errors.Join(errs...)
	}, func(error) {})
	writeJSON(w, http.StatusAccepted, map[string]any{"taskId": t.ID})
}

// backupApp backs one app up (POST /apps/{appId}/backup: the platform's
// route, which the published description leaves out).
func (b *Box) backupApp(w http.ResponseWriter, r *http.Request) {
	b.appTask(w, r, "backup", statePendingBackup, nil, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		p.say(10, "backing up %s", a.FQDN())
		return a, b.backupOne(ctx, a)
	})
}

// restoreRequest is POST /apps/{appId}/restore.
type restoreRequest struct {
	BackupID string `json:"backupId"`
}

func (b *Box) restore(w http.ResponseWriter, r *http.Request) {
	var req restoreRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.BackupID == "" {
		writeError(w, http.StatusBadRequest, "backupId is required (GET "+Prefix+"/apps/APP/backups lists them)")
		return
	}
	var bk backupState
	var m manifest.Manifest
	b.appTask(w, r, "restore", statePendingRestore, func(as *appState, a *runtime.App) bool {
		for _, x := range b.st.Backups {
			if x.Backup.ID == req.BackupID && x.Backup.AppID == as.Runtime.ID {
				bk = *x
			}
		}
		if bk.Backup.ID == "" {
			writeError(w, http.StatusNotFound, fmt.Sprintf("app %s has no backup %s (GET %s/apps/%s/backups lists them)", as.Runtime.ID, req.BackupID, Prefix, as.Runtime.ID))
			return false
		}
		var err error
		if m, err = decodeManifest(bk.Manifest); err != nil {
			writeError(w, http.StatusInternalServerError, "backup "+bk.Backup.ID+": "+err.Error())
			return false
		}
		return true
	}, func(ctx context.Context, p *progress, a *runtime.App) (*runtime.App, error) {
		p.say(10, "stopping the app and clearing its data")
		if _, err := a.Uninstall(ctx); err != nil {
			return a, err
		}
		na := b.rt.NewAppWithID(a.ID, bk.Backup.Image, m, a.Location)
		na.Raw, na.PinPort = bk.Manifest, a.PinPort
		p.say(40, "restoring %s", bk.Backup.ID)
		if err := na.RestoreFrom(ctx, &bk.Backup); err != nil {
			return na, err
		}
		p.say(60, "starting the app")
		if err := na.Start(ctx); err != nil {
			return na, err
		}
		b.pin(na)
		return na, nil
	})
}

// --- tasks and logs ---

// taskView is a task as the API shows it (components/schemas/Task.json).
type taskView struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Percent      int            `json:"percent"`
	Message      string         `json:"message"`
	Error        *taskErr       `json:"error,omitempty"`
	Active       bool           `json:"active"`
	Pending      bool           `json:"pending"`
	Success      bool           `json:"success"`
	CreationTime string         `json:"creationTime"`
	TS           string         `json:"ts"`
	Result       map[string]any `json:"result,omitempty"`
}

type taskErr struct {
	Message string `json:"message"`
}

func (t *task) view() taskView {
	v := taskView{ID: strconv.Itoa(t.ID), Type: t.Type, Percent: max(t.Percent, 1), Message: t.Message,
		Active: t.State == taskActive, Pending: t.State == taskPending, Success: t.State == taskSuccess,
		CreationTime: stamp(t.Created), TS: stamp(t.Updated), Result: t.Result}
	if t.State == taskError {
		v.Error = &taskErr{Message: t.Error}
	}
	return v
}

func (b *Box) getTask(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.task(r.PathValue("taskId"))
	if t == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no task %s on this box", r.PathValue("taskId")))
		return
	}
	writeJSON(w, http.StatusOK, t.view())
}

// logs answers the app's output (GET /apps/{appId}/logs?lines=N&format=json|short):
// NDJSON lines with realtimeTimestamp (microseconds) and message, or the
// plain lines.
func (b *Box) logs(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	as, ok := b.lookup(w, r.PathValue("appId"))
	var container string
	if ok {
		container = as.Runtime.Container
	}
	b.mu.Unlock()
	if !ok {
		return
	}
	q := r.URL.Query()
	lines := 100
	if s := q.Get("lines"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("lines %q: give a positive number", s))
			return
		}
		lines = int(f)
	}
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "short" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format %q: use json or short", format))
		return
	}
	var buf strings.Builder
	if container != "" {
		err := b.o.Engine.Logs(r.Context(), container, engine.LogsSpec{Tail: lines, Timestamps: true}, &buf)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			writeError(w, http.StatusInternalServerError, "the app's logs: "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-logs")
	w.Header().Set("Content-Disposition", `attachment; filename="`+as.Runtime.ID+`.log"`)
	w.WriteHeader(http.StatusOK)
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		ts, msg, _ := strings.Cut(strings.TrimRight(sc.Text(), "\r"), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			at, msg = time.Now(), sc.Text()
		}
		if format == "short" {
			fmt.Fprintf(w, "%s %s\n", at.UTC().Format(time.RFC3339), msg)
			continue
		}
		data, _ := json.Marshal(map[string]any{"realtimeTimestamp": at.UnixMicro(), "message": msg})
		_, _ = w.Write(append(data, '\n'))
	}
}

// IsLoopback says whether addr (HOST:PORT) is on loopback (the box refuses to listen
// beyond this machine without an explicit choice).
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
