// Package cloudrontest is a stand-in Cloudron for the tests of the API's
// clients: an httptest server that speaks the routes cpk uses, as the
// published description has them, and checks every request it gets and
// every answer it gives against that description (the contract package).
// Apps do not run in containers here: each installed app is answered by a
// handler the test gives (its "address" is that handler's own server), and
// tasks end after a few polls. End-to-end tests use cpk box instead.
package cloudrontest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cpk/internal/cloudronapi/contract"
)

// Options shape the stand-in.
type Options struct {
	Token  string // the one token it accepts
	Domain string // its one domain (default example.test)
	// App answers requests to every installed app (default: 200 "ok").
	App http.Handler
	// FailInstall, when set, makes install tasks fail with this text.
	FailInstall string
	// Polls is how many looks a task takes before it ends (default 2).
	Polls int
}

// Server is the stand-in.
type Server struct {
	*httptest.Server
	AppServer *httptest.Server
	o         Options

	mu      sync.Mutex
	apps    map[string]*app
	tasks   map[string]*task
	backups map[string][]backup
	next    int
	// Requests counts the API requests served, by "METHOD /route".
	Requests map[string]int
}

type app struct {
	ID, Subdomain, Domain string
	State, Run, Health    string
	Manifest              map[string]any
	Error                 string
	TaskID                string
}

type task struct {
	ID, Type string
	polls    int
	fail     string
	done     func() // applied when the task ends well
}

type backup struct {
	ID, Version string
	Created     time.Time
}

// New starts a stand-in whose handler reports contract violations to t.
func New(t contract.Reporter, o Options) (*Server, error) {
	if o.Domain == "" {
		o.Domain = "example.test"
	}
	if o.Polls == 0 {
		o.Polls = 2
	}
	if o.App == nil {
		o.App = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	}
	c, err := contract.New(contract.AllowMissingCredentials())
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, apps: map[string]*app{}, tasks: map[string]*task{}, backups: map[string][]backup{}, Requests: map[string]int{}}
	s.AppServer = httptest.NewServer(o.App)
	s.Server = httptest.NewServer(c.Handler(t, http.HandlerFunc(s.serve)))
	return s, nil
}

// Close stops both servers.
func (s *Server) Close() {
	s.Server.Close()
	s.AppServer.Close()
}

// Apps returns the ids of the apps the stand-in holds.
func (s *Server) Apps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"status": http.StatusText(status), "message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.o.Token {
		fail(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, contract.BasePath)
	parts := strings.Split(strings.Trim(p, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	route := r.Method + " /" + strings.Join(parts, "/")
	if parts[0] == "apps" || parts[0] == "tasks" {
		route = r.Method + " /" + parts[0]
		if len(parts) > 2 {
			route += "/{id}/" + strings.Join(parts[2:], "/")
		} else if len(parts) == 2 {
			route += "/{id}"
		}
	}
	s.Requests[route]++
	var body map[string]any
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	switch route {
	case "GET /cloudron/status":
		writeJSON(w, 200, map[string]any{"version": "8.3.0"})
	case "GET /domains":
		writeJSON(w, 200, map[string]any{"domains": []map[string]any{{"domain": s.o.Domain}}})
	case "GET /apps":
		list := []map[string]any{}
		for _, id := range sortedKeys(s.apps) {
			list = append(list, s.view(s.apps[id]))
		}
		writeJSON(w, 200, map[string]any{"apps": list})
	case "POST /apps":
		s.install(w, body)
	case "GET /tasks/{id}":
		s.getTask(w, parts[1])
	case "POST /backups/create":
		ids := sortedKeys(s.apps)
		writeJSON(w, 202, map[string]any{"taskId": mustInt(s.start("backup", "", func() {
			for _, id := range ids {
				if a := s.apps[id]; a != nil {
					s.backups[id] = append([]backup{{ID: fmt.Sprintf("app_%s_%d", id, s.next), Version: str(a.Manifest["version"]), Created: time.Now()}}, s.backups[id]...)
				}
			}
		}))})
	default:
		if parts[0] != "apps" || len(parts) < 2 {
			fail(w, 404, "No such route")
			return
		}
		a := s.apps[parts[1]]
		if a == nil {
			fail(w, 404, "App not found")
			return
		}
		s.appRoute(w, route, a, body)
	}
}

func (s *Server) install(w http.ResponseWriter, body map[string]any) {
	sub, _ := body["subdomain"].(string)
	dom, _ := body["domain"].(string)
	m, _ := body["manifest"].(map[string]any)
	if dom != s.o.Domain {
		fail(w, 400, "No such domain")
		return
	}
	if str(m["dockerImage"]) == "" {
		fail(w, 400, "manifest.dockerImage is required")
		return
	}
	for _, a := range s.apps {
		if a.Subdomain == sub && a.Domain == dom {
			fail(w, 409, "Location already in use by app "+a.ID)
			return
		}
	}
	s.next++
	a := &app{ID: fmt.Sprintf("app-%04d", s.next), Subdomain: sub, Domain: dom, State: "pending_install", Run: "stopped", Health: "", Manifest: m}
	s.apps[a.ID] = a
	tid := s.start("app", s.o.FailInstall, func() { a.State, a.Run, a.Health = "installed", "running", "healthy" })
	a.TaskID = tid
	writeJSON(w, 202, map[string]any{"id": a.ID, "taskId": mustInt(tid)})
}

func (s *Server) appRoute(w http.ResponseWriter, route string, a *app, body map[string]any) {
	started := func(tid string) { a.TaskID = tid; writeJSON(w, 202, map[string]any{"taskId": mustInt(tid)}) }
	switch route {
	case "GET /apps/{id}":
		writeJSON(w, 200, s.view(a))
	case "POST /apps/{id}/uninstall":
		a.State = "pending_uninstall"
		started(s.start("app", "", func() { delete(s.apps, a.ID); delete(s.backups, a.ID) }))
	case "POST /apps/{id}/restart":
		a.State = "pending_restart"
		started(s.start("app", "", func() { a.State, a.Run, a.Health = "installed", "running", "healthy" }))
	case "POST /apps/{id}/update":
		m, _ := body["manifest"].(map[string]any)
		a.State = "pending_update"
		started(s.start("app", "", func() { a.Manifest = m; a.State = "installed" }))
	case "POST /apps/{id}/configure/location":
		sub, _ := body["subdomain"].(string)
		a.State = "pending_location_change"
		started(s.start("app", "", func() { a.Subdomain = sub; a.State = "installed" }))
	case "POST /apps/{id}/restore":
		id, _ := body["backupId"].(string)
		found := false
		for _, b := range s.backups[a.ID] {
			found = found || b.ID == id
		}
		if !found {
			fail(w, 404, "Backup not found")
			return
		}
		a.State = "pending_restore"
		started(s.start("app", "", func() { a.State = "installed" }))
	case "GET /apps/{id}/backups":
		list := []map[string]any{}
		for _, b := range s.backups[a.ID] {
			list = append(list, map[string]any{"id": b.ID, "packageVersion": b.Version, "creationTime": b.Created.UTC().Format(time.RFC3339), "state": "normal"})
		}
		writeJSON(w, 200, map[string]any{"backups": list})
	case "GET /apps/{id}/logs":
		w.Header().Set("Content-Type", "application/x-logs")
		fmt.Fprintf(w, "app %s: started\n", a.ID)
	default:
		fail(w, 404, "No such route")
	}
}

func (s *Server) view(a *app) map[string]any {
	v := map[string]any{"id": a.ID, "appStoreId": "", "installationState": a.State, "runState": a.Run, "health": a.Health,
		"subdomain": a.Subdomain, "domain": a.Domain, "fqdn": strings.TrimPrefix(s.AppServer.URL, "http://"), "manifest": a.Manifest,
		"taskId": a.TaskID, "accessRestriction": nil, "error": nil}
	if a.Error != "" {
		v["error"] = a.Error
	}
	return v
}

func (s *Server) start(typ, failure string, done func()) string {
	s.next++
	id := strconv.Itoa(s.next)
	s.tasks[id] = &task{ID: id, Type: typ, fail: failure, done: done}
	return id
}

func (s *Server) getTask(w http.ResponseWriter, id string) {
	t := s.tasks[id]
	if t == nil {
		fail(w, 404, "No such task")
		return
	}
	t.polls++
	v := map[string]any{"id": t.ID, "type": t.Type, "active": true, "pending": false, "percent": 1 + 98*t.polls/s.o.Polls, "message": "Working"}
	if t.polls >= s.o.Polls {
		v["active"], v["percent"] = false, 100
		if t.fail != "" {
			v["success"], v["error"], v["message"] = false, map[string]any{"message": t.fail}, "Failed"
			for _, a := range s.apps {
				if a.TaskID == id {
					a.State, a.Error = "error", t.fail
				}
			}
		} else {
			v["success"], v["message"] = true, "Done"
			if t.done != nil {
				t.done()
				t.done = nil
			}
		}
	}
	writeJSON(w, 200, v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func str(v any) string { s, _ := v.(string); return s }

func mustInt(s string) int { n, _ := strconv.Atoi(s); return n }
