package scenario

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cpk/internal/fsx"
	"cpk/internal/runtime"
)

// ChecksFile is a package's own checks: apps/<id>/test/checks.yaml.
const ChecksFile = "test/checks.yaml"

// PackageChecks are a package's own checks, strictly decoded:
//
//	data:                      # after each fresh install: make data the later steps check
//	  - name: add a hook
//	    exec: [sh, -c, "…"]    # in the app container (user: as root unless set)
//	    steps: [install]       # only at the install, not on the update step's previous version
//	checks:                    # after every step in which the app runs
//	  - name: the hook answers
//	    http: {method: POST, path: /hooks/x, status: 200, contains: "ok"}
//	  - name: a file is there
//	    exec: [test, -f, /app/data/x]
//	  - name: a mail was sent
//	    mail: {subject: "Welcome"}
//	    steps: [install]       # only after these steps (default: all)
//	  - name: a user signs in with Cloudron
//	    oidcLogin:             # a browser signs a test user in through the provider's form
//	      start: /login/oidc   # where the app's login starts (or any page behind proxyAuth)
//	      form: /oauth/login/  # optional: submit the start page's form posting there (a login button)
//	      user: user           # admin (default) or user, the seeded test users
//	      contains: "Log out"  # the page it lands on shows this (path: where it must land)
//	      then:                # requests in the signed-in session
//	        - {path: /notes, contains: "my note"}
//	  - name: a mail arrives in the app's mailbox
//	    deliver: {to: app, subject: "Hello", body: "…"}   # once, by SMTP into the box's mail server
type PackageChecks struct {
	Data   []Action `yaml:"data"`
	Checks []Action `yaml:"checks"`
}

// Action is one request, command, mail expectation or mail delivery.
type Action struct {
	Name string      `yaml:"name"`
	HTTP *HTTPAction `yaml:"http"`
	Exec []string    `yaml:"exec"`
	User string      `yaml:"user"`
	Mail *MailAction `yaml:"mail"`
	// Deliver sends a mail into a mailbox of the box (the app's recvmail
	// mailbox with to: app), as mail from outside arrives.
	Deliver *DeliverAction `yaml:"deliver"`
	// Task runs the manifest's scheduler task of this name now, as the
	// platform does on its schedule: in a container of the app's image
	// with its volumes and add-ons; it must exit 0 (and print contains).
	Task string `yaml:"task"`
	// OIDCLogin signs a test user in through the app's login, as a
	// browser: the sign-on provider's form, every redirect, the cookies.
	OIDCLogin *OIDCLoginAction `yaml:"oidcLogin"`
	Steps     []string         `yaml:"steps"`
	// Contains is text the exec output must hold.
	Contains string `yaml:"contains"`
}

// HTTPAction is a request to the app, through its httpPort, as the
// reverse proxy sends it.
type HTTPAction struct {
	Method   string            `yaml:"method"`
	Path     string            `yaml:"path"`
	Body     string            `yaml:"body"`
	Headers  map[string]string `yaml:"headers"`
	Status   int               `yaml:"status"`
	Contains string            `yaml:"contains"`
}

// OIDCLoginAction is a sign-in through the app's OpenID Connect login (the
// oidc add-on; or its OAuth 2.0 login, the legacy oauth add-on, which uses
// the same provider and form) or the platform's login wall (proxyAuth): a browser opens
// Start on the app's domain, must be sent to the provider's login form,
// submits it as User, follows the redirects back and must land logged in:
// Status (default 200), on Path when given, the page containing Contains.
// Then are requests in the signed-in session (its cookies), such as a page
// with the user's own data.
type OIDCLoginAction struct {
	Start string `yaml:"start"`
	// Form: the login starts by submitting the start page's form whose
	// action path starts with this (a "log in with Cloudron" button that
	// posts, with the page's CSRF token).
	Form     string       `yaml:"form"`
	User     string       `yaml:"user"`
	Status   int          `yaml:"status"`
	Path     string       `yaml:"path"`
	Contains string       `yaml:"contains"`
	Then     []HTTPAction `yaml:"then"`
}

// MailAction expects a mail the app sent.
type MailAction struct {
	Subject string `yaml:"subject"`
	To      string `yaml:"to"`
}

// DeliverAction is a mail to deliver: to "app" (the app's recvmail
// mailbox) or an address of the box's domain (the email add-on's users
// admin@ and user@); from defaults to cpk-test@example.com.
type DeliverAction struct {
	To      string `yaml:"to"`
	From    string `yaml:"from"`
	Subject string `yaml:"subject"`
	Body    string `yaml:"body"`
}

// LoadChecks reads dir/test/checks.yaml; none is no checks.
func LoadChecks(dir string) (*PackageChecks, error) {
	path := filepath.Join(dir, filepath.FromSlash(ChecksFile))
	var pc PackageChecks
	if _, err := fsx.ReadYAML(path, &pc); err != nil {
		return nil, err
	}
	for i, a := range append(append([]Action(nil), pc.Data...), pc.Checks...) {
		n := 0
		for _, set := range []bool{a.HTTP != nil, len(a.Exec) > 0, a.Mail != nil, a.Task != "", a.OIDCLogin != nil, a.Deliver != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("%s: entry %d (%q): give exactly one of http, exec, mail, task, oidcLogin, deliver", path, i+1, a.Name)
		}
		if l := a.OIDCLogin; l != nil {
			if !strings.HasPrefix(l.Start, "/") || (l.Form != "" && !strings.HasPrefix(l.Form, "/")) {
				return nil, fmt.Errorf("%s: entry %d (%q): oidcLogin needs start, the path where the app's login starts (such as /login), and form, when given, is a path too", path, i+1, a.Name)
			}
			if l.User != "" && l.User != "admin" && l.User != "user" {
				return nil, fmt.Errorf("%s: entry %d (%q): oidcLogin user %q: the test users are admin and user", path, i+1, a.Name, l.User)
			}
		}
		if a.Deliver != nil && (a.Deliver.To == "" || a.Deliver.Subject == "") {
			return nil, fmt.Errorf("%s: entry %d (%q): deliver needs to (app, or an address) and subject", path, i+1, a.Name)
		}
		for _, s := range a.Steps {
			if !slices.Contains(StepNames, s) {
				return nil, fmt.Errorf("%s: entry %d (%q): unknown step %q (steps: %s)", path, i+1, a.Name, s, strings.Join(StepNames, ", "))
			}
		}
	}
	return &pc, nil
}

func (a Action) title() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.HTTP != nil:
		return strings.TrimSpace(a.HTTP.Method + " " + a.HTTP.Path)
	case a.Mail != nil:
		return "mail " + a.Mail.Subject
	case a.Task != "":
		return "scheduler task " + a.Task
	case a.OIDCLogin != nil:
		return "sign-in at " + a.OIDCLogin.Start
	case a.Deliver != nil:
		return "deliver " + a.Deliver.Subject
	}
	return strings.Join(a.Exec, " ")
}

// run performs the action against app; an error says what was wrong.
// Requests and mail checks are asked again for up to 10 s: an app may
// apply a change (a reloaded file, a queued mail) a moment later. Commands,
// tasks and deliveries run once.
func (a Action) run(ctx context.Context, app *runtime.App) error {
	if len(a.Exec) > 0 || a.Task != "" || a.Deliver != nil {
		return a.once(ctx, app)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.once(ctx, app)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Second)
	}
}

func (a Action) once(ctx context.Context, app *runtime.App) error {
	switch {
	case a.HTTP != nil:
		return a.httpOnce(ctx, app)
	case len(a.Exec) > 0:
		res, err := app.Exec(ctx, a.User, a.Exec...)
		if err != nil {
			return err
		}
		out := string(res.Stdout) + string(res.Stderr)
		if res.ExitCode != 0 {
			return fmt.Errorf("%s exited with %d: %s", strings.Join(a.Exec, " "), res.ExitCode, snippet(out))
		}
		if a.Contains != "" && !strings.Contains(out, a.Contains) {
			return fmt.Errorf("%s: the output does not contain %q: %s", strings.Join(a.Exec, " "), a.Contains, snippet(out))
		}
	case a.Task != "":
		var task *runtime.Task
		for _, t := range app.Tasks() {
			if t.Name == a.Task {
				task = &t
			}
		}
		if task == nil {
			var names []string
			for _, t := range app.Tasks() {
				names = append(names, t.Name)
			}
			return fmt.Errorf("the manifest's scheduler add-on has no task %q (it has: %s)", a.Task, strings.Join(names, ", "))
		}
		res, err := app.RunTask(ctx, *task, 5*time.Minute)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("scheduler task %s exited with %d: %s", a.Task, res.ExitCode, snippet(res.Output))
		}
		if a.Contains != "" && !strings.Contains(res.Output, a.Contains) {
			return fmt.Errorf("scheduler task %s: the output does not contain %q: %s", a.Task, a.Contains, snippet(res.Output))
		}
	case a.OIDCLogin != nil:
		return a.OIDCLogin.run(ctx, app)
	case a.Deliver != nil:
		to := a.Deliver.To
		if to == "app" {
			if to = app.MailboxAddress(); to == "" {
				return fmt.Errorf("deliver to app: the manifest does not declare the recvmail add-on, so the app has no mailbox")
			}
		}
		_, err := app.Box().Deliver(ctx, runtime.Delivery{From: a.Deliver.From, To: to, Subject: a.Deliver.Subject, Body: a.Deliver.Body})
		return err
	case a.Mail != nil:
		mails, err := app.Box().Mails(ctx)
		if err != nil {
			return err
		}
		for _, m := range mails {
			if strings.Contains(m.Subject, a.Mail.Subject) && strings.Contains(m.To, a.Mail.To) {
				return nil
			}
		}
		return fmt.Errorf("no mail with subject %q among the %d the app sent", a.Mail.Subject, len(mails))
	}
	return nil
}

// Target is what a package's HTTP checks are sent to: the app in the
// emulated runtime (*runtime.App), or an app on a Cloudron (URLTarget).
type Target interface {
	Request(ctx context.Context, method, path string, body io.Reader, header map[string]string) runtime.Response
}

// HTTPOnly reports whether the action is an HTTP request: the only kind
// that runs against an app on a Cloudron, where cpk has no container to
// exec in, no scheduler to drive and no mail server to read.
func (a Action) HTTPOnly() bool { return a.HTTP != nil }

// Title is how the action is named in reports.
func (a Action) Title() string { return a.title() }

// RunHTTP sends the action's request to t and checks the answer, asking
// again for up to patience (10 s, as run does, when 0).
func (a Action) RunHTTP(ctx context.Context, t Target, patience time.Duration) error {
	if a.HTTP == nil {
		return fmt.Errorf("%s: not an HTTP check", a.title())
	}
	if patience <= 0 {
		patience = 10 * time.Second
	}
	deadline := time.Now().Add(patience)
	for {
		err := a.httpOnce(ctx, t)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (a Action) httpOnce(ctx context.Context, t Target) error {
	h := a.HTTP
	method := h.Method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(h.Body)
	}
	r := t.Request(ctx, method, h.Path, body, h.Headers)
	want := h.Status
	if want == 0 {
		want = 200
	}
	if r.Status != want {
		return fmt.Errorf("%s %s answered %s, want %d: %s", method, h.Path, r.Probe, want, snippet(r.Body))
	}
	if h.Contains != "" && !strings.Contains(r.Body, h.Contains) {
		return fmt.Errorf("%s %s: the answer does not contain %q: %s", method, h.Path, h.Contains, snippet(r.Body))
	}
	return nil
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

func (l *OIDCLoginAction) run(ctx context.Context, app *runtime.App) error {
	user := l.User
	if user == "" {
		user = "admin"
	}
	in, err := app.SignIn(ctx, l.Start, l.Form, user)
	if err != nil {
		return fmt.Errorf("sign-in as %s from %s: %w", user, l.Start, err)
	}
	if !in.Form {
		how := "GET " + l.Start
		if l.Form != "" {
			how += " and its form to " + l.Form
		}
		return fmt.Errorf("%s did not lead to the provider's login form: it ended at %s (%d): %s", how, in.URL, in.Status, snippet(in.Body))
	}
	want := l.Status
	if want == 0 {
		want = 200
	}
	if in.Status != want {
		return fmt.Errorf("after signing in as %s the app answered %d at %s, want %d: %s", user, in.Status, in.URL, want, snippet(in.Body))
	}
	if in.URL.Host != app.FQDN() {
		return fmt.Errorf("after signing in as %s the browser is at %s, not on the app's domain %s", user, in.URL, app.FQDN())
	}
	if l.Path != "" && in.URL.Path != l.Path {
		return fmt.Errorf("after signing in as %s the browser is at %s, want the path %s", user, in.URL, l.Path)
	}
	if l.Contains != "" && !strings.Contains(in.Body, l.Contains) {
		return fmt.Errorf("after signing in as %s, %s does not contain %q: %s", user, in.URL, l.Contains, snippet(in.Body))
	}
	for _, h := range l.Then {
		method := h.Method
		if method == "" {
			method = "GET"
		}
		var body io.Reader
		if h.Body != "" {
			body = strings.NewReader(h.Body)
		}
		req, err := http.NewRequestWithContext(ctx, method, "https://"+app.FQDN()+h.Path, body)
		if err != nil {
			return err
		}
		for k, v := range h.Headers {
			req.Header.Set(k, v)
		}
		resp, err := in.Browser.Do(req)
		if err != nil {
			return fmt.Errorf("signed in as %s: %s %s: %w", user, method, h.Path, err)
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		want := h.Status
		if want == 0 {
			want = 200
		}
		if resp.StatusCode != want {
			return fmt.Errorf("signed in as %s: %s %s answered %d, want %d: %s", user, method, h.Path, resp.StatusCode, want, snippet(string(data)))
		}
		if h.Contains != "" && !strings.Contains(string(data), h.Contains) {
			return fmt.Errorf("signed in as %s: %s %s does not contain %q: %s", user, method, h.Path, h.Contains, snippet(string(data)))
		}
	}
	return nil
}
