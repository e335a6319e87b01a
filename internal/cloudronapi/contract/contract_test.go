package contract

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func mustNew(t *testing.T, opts ...Option) *Contract {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDescriptionLoads(t *testing.T) {
	c := mustNew(t)
	if n := len(c.doc.Paths.Map()); n != 183 {
		t.Errorf("paths: %d, want 183", n)
	}
	t.Logf("%d paths, %d operations", len(c.doc.Paths.Map()), c.Operations())
}

func request(method, target, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Header.Set("Authorization", "Bearer t0k3n")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

const install = `{"appStoreId":"","manifest":{"id":"io.example.app","version":"1.0.0","manifestVersion":2,"httpPort":8000,"title":"App"},
 "domain":"example.org","subdomain":"app","accessRestriction":{"users":[],"groups":[]}}`

func TestRequests(t *testing.T) {
	c := mustNew(t)
	for _, tc := range []struct {
		name, method, target, body string
		noAuth                     bool
		want                       string // "" = valid; else a fragment of the error
	}{
		{"list apps", "GET", "http://127.0.0.1:3000/api/v1/apps", "", false, ""},
		{"get task", "GET", "/api/v1/tasks/12", "", false, ""},
		{"install", "POST", "/api/v1/apps", install, false, ""},
		{"install without subdomain", "POST", "/api/v1/apps", strings.Replace(install, `"subdomain":"app",`, "", 1), false, "subdomain"},
		{"install with a wrong type", "POST", "/api/v1/apps", strings.Replace(install, `"accessRestriction":{"users":[],"groups":[]}`, `"accessRestriction":"all"`, 1), false, "accessRestriction"},
		{"restore without a backup", "POST", "/api/v1/apps/a1/restore", `{}`, false, "backupId"},
		{"logs", "GET", "/api/v1/apps/a1/logs?lines=10&format=short", "", false, ""},
		{"lines not a number", "GET", "/api/v1/apps/a1/logs?lines=ten", "", false, `query parameter "lines"`},
		{"format not described", "GET", "/api/v1/apps/a1/logs?format=xml", "", false, `query parameter "format"`},
		{"unknown route", "GET", "/api/v1/nothing/here", "", false, "no such route"},
		{"outside the API", "GET", "/apps", "", false, "outside the API"},
		{"no token", "GET", "/api/v1/apps", "", true, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(tc.method, tc.target, tc.body)
			if tc.noAuth {
				req.Header.Del("Authorization")
			}
			_, err := c.CheckRequest(req)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("valid request refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("invalid request accepted")
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if err != nil {
				t.Log(err)
			}
			if tc.body != "" {
				b, _ := io.ReadAll(req.Body)
				if string(b) != tc.body {
					t.Errorf("the request body was not put back: %q", b)
				}
			}
		})
	}
	noAuth := mustNew(t, AllowMissingCredentials())
	req := request("GET", "/api/v1/apps", "")
	req.Header.Del("Authorization")
	if _, err := noAuth.CheckRequest(req); err != nil {
		t.Errorf("AllowMissingCredentials: %v", err)
	}
}

func TestResponses(t *testing.T) {
	c := mustNew(t)
	json := http.Header{"Content-Type": {"application/json"}}
	logs := http.Header{"Content-Type": {"application/x-logs"}}
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		resp                       string
		want                       string
	}{
		{"task", "GET", "/api/v1/tasks/3", "", 200, `{"id":"3","type":"app","percent":100,"active":false,"success":true,"message":"Done"}`, ""},
		{"task with a wrong type", "GET", "/api/v1/tasks/3", "", 200, `{"id":3,"active":false}`, "id"},
		{"install accepted", "POST", "/api/v1/apps", install, 202, `{"id":"a1","taskId":4}`, ""},
		{"install with a string task id", "POST", "/api/v1/apps", install, 202, `{"id":"a1","taskId":"4"}`, "taskId"},
		{"undescribed success", "POST", "/api/v1/apps", install, 200, `{"id":"a1","taskId":4}`, "not described"},
		{"logs", "GET", "/api/v1/apps/a1/logs?format=short", "", 200, "line one\nline two\n", ""},
		{"described error", "GET", "/api/v1/apps", "", 401, `{"status":"Unauthorized","message":"Token invalid"}`, ""},
		{"undescribed error with the error object", "GET", "/api/v1/apps/nope", "", 404, `{"status":"Not Found","message":"No such app"}`, ""},
		{"undescribed error without it", "GET", "/api/v1/apps/nope", "", 404, `not found`, "error object"},
		{"undescribed error missing message", "GET", "/api/v1/apps/nope", "", 409, `{"status":"Conflict"}`, "message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := c.CheckRequest(request(tc.method, tc.target, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			h := json
			if strings.HasSuffix(tc.target, "short") {
				h = logs
			}
			err = c.CheckResponse(ex, tc.status, h, []byte(tc.resp))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("valid response refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("invalid response accepted")
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}

// recorder collects what the wrappers report.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestTransportAndHandler(t *testing.T) {
	c := mustNew(t)
	var served recorder
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PathValue("id") == "7" {
			io.WriteString(w, `{"id":"7","active":"no"}`) // active must be a boolean
			return
		}
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","active":true,"percent":50}`)
	})
	srv := httptest.NewServer(c.Handler(&served, mux))
	defer srv.Close()
	var sent recorder
	client := &http.Client{Transport: c.Transport(&sent, nil)}
	get := func(p string) string {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := get("/api/v1/tasks/1"); !strings.Contains(body, `"percent":50`) {
		t.Errorf("the body did not pass through: %q", body)
	}
	if len(sent.errs)+len(served.errs) != 0 {
		t.Errorf("a valid exchange was reported: %v %v", sent.errs, served.errs)
	}
	get("/api/v1/tasks/7")
	if len(sent.errs) != 1 || !strings.Contains(sent.errs[0], "active") {
		t.Errorf("transport: want one violation naming active, got %q", sent.errs)
	}
	if len(served.errs) != 1 || !strings.Contains(served.errs[0], "active") {
		t.Errorf("handler: want one violation naming active, got %q", served.errs)
	}
	t.Log(sent.errs)
}
