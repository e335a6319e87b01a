// Package contract checks HTTP exchanges against the published description
// of the Cloudron REST API (the copy embedded in
// internal/cloudronapi/openapi). Both sides use it in their tests: the
// client wraps its transport with Transport, a server wraps its handler with
// Handler, and every request and response that passes through is validated;
// a violation fails the test with the route and the offending field.
//
// The rules, beyond the description itself:
//   - a request must carry credentials in one of the description's forms
//     (an "Authorization: Bearer …" header or an access_token query
//     parameter), unless AllowMissingCredentials is given;
//   - a response status the operation does not describe is accepted only
//     for errors (4xx, 5xx), and then its body must be the description's
//     error object (components/schemas/error.json: status and message);
//     an undescribed success status is a violation.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cpk/internal/cloudronapi/openapi"
)

// BasePath is the prefix of every route of the API on a Cloudron
// (https://DASHBOARD/api/v1/...).
const BasePath = "/api/v1"

// canonicalHost is the description's default server host; requests are
// routed as if sent to it, whatever address they really went to.
const canonicalHost = "my.cloudron.example"

// Contract is the loaded description with its router. It is safe for
// concurrent use.
type Contract struct {
	doc         *openapi3.T
	router      routers.Router
	errorSchema *openapi3.Schema
	allowNoAuth bool
}

// Option changes what a Contract accepts.
type Option func(*Contract)

// AllowMissingCredentials accepts requests without a token (a test of the
// server's 401 answer sends such requests on purpose).
func AllowMissingCredentials() Option { return func(c *Contract) { c.allowNoAuth = true } }

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Doc loads (once) and returns the embedded description.
func Doc() (*openapi3.T, error) {
	loadOnce.Do(func() { loaded, loadErr = load(openapi.FS, openapi.Entry) })
	return loaded, loadErr
}

func load(fsys fs.FS, entry string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	// References are resolved against the entry's location; read them from
	// the embedded tree, never from the disk or the network.
	loader.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme != "" || u.Host != "" {
			return nil, fmt.Errorf("reference %s: only files of the embedded description can be read", u)
		}
		return fs.ReadFile(fsys, strings.TrimPrefix(path.Clean(u.Path), "/"))
	}
	data, err := fs.ReadFile(fsys, entry)
	if err != nil {
		return nil, fmt.Errorf("the API description: %w", err)
	}
	doc, err := loader.LoadFromDataWithPath(data, &url.URL{Path: entry})
	if err != nil {
		return nil, fmt.Errorf("loading the API description: %w", err)
	}
	// A few of the description's own examples and defaults have the wrong
	// type; request and response validation does not depend on them.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("the API description is invalid: %w", err)
	}
	return doc, nil
}

func init() {
	// The logs routes answer application/x-logs (lines of text or NDJSON),
	// a type openapi3filter has no decoder for; it is a plain byte stream.
	openapi3filter.RegisterBodyDecoder("application/x-logs", openapi3filter.FileBodyDecoder)
}

// New returns a Contract over the embedded description.
func New(opts ...Option) (*Contract, error) {
	doc, err := Doc()
	if err != nil {
		return nil, err
	}
	// Route against one concrete server: the description's server URL
	// has a variable host ({cloudron_domain}), which the router matches
	// only without dots; requests are rewritten to this host instead.
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "https://" + canonicalHost + BasePath}}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("routing the API description: %w", err)
	}
	c := &Contract{doc: doc, router: router}
	if ref := doc.Components.Schemas["error"]; ref != nil {
		c.errorSchema = ref.Value
	}
	if c.errorSchema == nil {
		c.errorSchema, err = errorSchema()
		if err != nil {
			return nil, err
		}
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// errorSchema loads components/schemas/error.json on its own: the
// description refers to it from responses only, not from components.
func errorSchema() (*openapi3.Schema, error) {
	data, err := fs.ReadFile(openapi.FS, "components/schemas/error.json")
	if err != nil {
		return nil, fmt.Errorf("the API description's error object: %w", err)
	}
	var s openapi3.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("the API description's error object: %w", err)
	}
	return &s, nil
}

// Operations returns the number of operations the description holds (a
// quick sanity figure for tests).
func (c *Contract) Operations() int {
	n := 0
	for _, item := range c.doc.Paths.Map() {
		n += len(item.Operations())
	}
	return n
}

// Exchange is a request that passed validation, kept to validate its
// response.
type Exchange struct {
	input *openapi3filter.RequestValidationInput
	label string
}

// Label names the exchange for messages ("POST /api/v1/apps").
func (e *Exchange) Label() string { return e.label }

// CheckRequest validates a request (its route, parameters, credentials and
// body) against the description. The body is read and put back, so the
// request can still be sent or served. The error names the route and the
// offending field.
func (c *Contract) CheckRequest(req *http.Request) (*Exchange, error) {
	label := req.Method + " " + req.URL.Path
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the request body: %w", label, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rel, ok := strings.CutPrefix(req.URL.Path, BasePath)
	if !ok {
		return nil, fmt.Errorf("%s: the path is outside the API (%s/...)", label, BasePath)
	}
	// Route a copy as if it were sent to the description's own server.
	routed := req.Clone(context.Background())
	routed.URL = &url.URL{Scheme: "https", Host: canonicalHost, Path: BasePath + rel, RawQuery: req.URL.RawQuery}
	routed.Host = canonicalHost
	routed.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(routed)
	if err != nil {
		return nil, fmt.Errorf("%s: no such route in the API description: %w", label, err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    routed,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: c.authenticate,
			MultiError:         false,
		},
	}
	label = req.Method + " " + route.Path
	if route.Operation != nil && route.Operation.OperationID != "" {
		label += " (" + route.Operation.OperationID + ")"
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		return nil, fmt.Errorf("%s: request: %s", label, describe(err))
	}
	return &Exchange{input: input, label: label}, nil
}

func (c *Contract) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearer_auth":
		h := r.Header.Get("Authorization")
		if h == "" {
			if c.allowNoAuth {
				return nil
			}
			return errors.New("no Authorization header")
		}
		if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
			return errors.New(`the Authorization header is not "Bearer TOKEN"`)
		}
		return nil
	case "query_auth":
		if r.URL.Query().Get("access_token") == "" {
			if c.allowNoAuth && r.Header.Get("Authorization") == "" {
				return nil
			}
			return errors.New("no access_token query parameter")
		}
		return nil
	}
	return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
}

// CheckResponse validates the response to a checked request: its status
// (see the package rules), headers and body.
func (c *Contract) CheckResponse(ex *Exchange, status int, header http.Header, body []byte) error {
	op := ex.input.Route.Operation
	if op != nil && op.Responses != nil && op.Responses.Status(status) == nil && op.Responses.Default() == nil {
		if status < 400 {
			return fmt.Errorf("%s: response status %d is not described (described: %s)", ex.label, status, strings.Join(described(op), ", "))
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("%s: response %d: the body is not the description's error object (JSON with status and message): %v", ex.label, status, err)
		}
		if err := c.errorSchema.VisitJSON(v); err != nil {
			return fmt.Errorf("%s: response %d: the body is not the description's error object: %s", ex.label, status, describe(err))
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: ex.input,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s: response %d: %s", ex.label, status, describe(err))
	}
	return nil
}

func described(op *openapi3.Operation) []string {
	var out []string
	for code := range op.Responses.Map() {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// describe turns a validation error into one line naming the offending
// field (a JSON pointer into the body, or the parameter).
func describe(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := strings.Join(se.JSONPointer(), ".")
		reason := se.Reason
		if reason == "" {
			reason = se.Error()
		}
		if f, r, ok := jsonschemaDetail(reason); ok {
			// The detail's pointer is sometimes relative to the failing
			// schema, sometimes to the whole body.
			if field == "" || f == field || strings.HasPrefix(f, field+".") {
				field = f
			} else if f != "" {
				field += "." + f
			}
			reason = r
		}
		if field == "" {
			field = "(the whole body)"
		}
		prefix := ""
		var re *openapi3filter.RequestError
		if errors.As(err, &re) && re.Parameter != nil {
			prefix = re.Parameter.In + " parameter " + strconv.Quote(re.Parameter.Name) + ": "
		}
		if prefix != "" && field == "(the whole body)" {
			return prefix + reason
		}
		return fmt.Sprintf("%sfield %s: %s", prefix, field, reason)
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		if re.Parameter != nil {
			return fmt.Sprintf("%s parameter %q: %s", re.Parameter.In, re.Parameter.Name, oneLine(re.Reason, re.Err))
		}
		return oneLine(re.Reason, re.Err)
	}
	var sec *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sec) {
		var msgs []string
		for _, e := range sec.Errors {
			msgs = append(msgs, e.Error())
		}
		return "credentials: " + strings.Join(msgs, "; ")
	}
	return err.Error()
}

// jsonschemaDetail extracts the first "- at '/a/b': reason" line of a JSON
// Schema 2020 validation message, whose first line only names the schema.
// A missing property is reported as that property's field.
func jsonschemaDetail(msg string) (field, reason string, ok bool) {
	for _, line := range strings.Split(msg, "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(line), "- at '")
		if !found {
			continue
		}
		ptr, r, found := strings.Cut(rest, "': ")
		if !found {
			continue
		}
		field = strings.ReplaceAll(strings.TrimPrefix(ptr, "/"), "/", ".")
		if name, found := strings.CutPrefix(r, "missing property '"); found {
			field = strings.Trim(field+"."+strings.TrimSuffix(name, "'"), ".")
			r = "missing"
		}
		return field, r, true
	}
	return "", "", false
}

func oneLine(reason string, err error) string {
	switch {
	case reason != "" && err != nil:
		return reason + ": " + err.Error()
	case err != nil:
		return err.Error()
	}
	return reason
}

// Reporter is the part of testing.TB the wrappers need.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Transport wraps next (http.DefaultTransport when nil): every request sent
// through it, and the response it gets, is checked, and each violation is
// reported to r (the exchange itself still happens, so the code under test
// sees the real answer).
func (c *Contract) Transport(r Reporter, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{c: c, r: r, next: next}
}

type transport struct {
	c    *Contract
	r    Reporter
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ex, err := t.c.CheckRequest(req)
	if err != nil {
		t.r.Errorf("API contract: %v", err)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || ex == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	if err := t.c.CheckResponse(ex, resp.StatusCode, resp.Header, body); err != nil {
		t.r.Errorf("API contract: %v", err)
	}
	return resp, nil
}

// Handler wraps a server's handler: every request it serves, and the
// response it writes, is checked, and each violation is reported to r. The
// request is still served when it violates the description (the server's
// own answer to bad input is part of what a test looks at).
func (c *Contract) Handler(r Reporter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ex, err := c.CheckRequest(req)
		if err != nil {
			r.Errorf("API contract: %v", err)
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, req)
		res := rec.Result()
		body := rec.Body.Bytes()
		if ex != nil {
			if err := c.CheckResponse(ex, res.StatusCode, res.Header, body); err != nil {
				r.Errorf("API contract: %v", err)
			}
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		w.Write(body)
	})
}
