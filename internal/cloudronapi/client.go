// Package cloudronapi is a thin, typed client of the Cloudron REST API
// (https://DASHBOARD/api/v1), for the routes cpk deploy and cpk test
// --server use: apps (list, get, install, update, uninstall, restart,
// restore, configure location, logs), backups (create, list), tasks and the
// server's status. It follows the published description embedded in
// internal/cloudronapi/openapi; its tests send every request through the
// contract's validating transport.
//
// Every failure is one of three typed errors: *UnreachableError (no answer:
// which address and why), *APIError (the server answered an error status,
// with its own message) and *ProtocolError (an answer the description does
// not allow, naming the offending field).
package cloudronapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// BasePath is where the API lives on a server.
const BasePath = "/api/v1"

// Client talks to one Cloudron. It is safe for concurrent use.
type Client struct {
	server *url.URL // scheme://host[:port], no path
	token  string
	http   *http.Client
}

// New returns a client of the server at serverURL (https://my.example.com or
// http://127.0.0.1:PORT; a trailing /api/v1 is accepted) with an API token.
// hc nil uses a client with a 60 s timeout per request.
func New(serverURL, token string, hc *http.Client) (*Client, error) {
	u, err := ParseServer(serverURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("no API token")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{server: u, token: token, http: hc}, nil
}

// ParseServer checks and normalises a server address: scheme http or
// https, a host, no query; a trailing / or /api/v1 is dropped.
func ParseServer(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no server address: give --server https://my.example.com (the Cloudron's dashboard address)")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server address %q: the scheme must be https (or http for a local server)", s)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server address %q: give scheme://host[:port] only", s)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), BasePath)
	if p != "" && p != "/" {
		return nil, fmt.Errorf("server address %q: give the dashboard's address without a path", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Server is the server's address, scheme://host[:port].
func (c *Client) Server() string { return c.server.String() }

// Loopback reports whether the server is on this machine (127.0.0.0/8,
// ::1, localhost): a local development Cloudron such as cpk box.
func (c *Client) Loopback() bool { return IsLoopback(c.server.Hostname()) }

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// UnreachableError is a request that got no answer.
type UnreachableError struct {
	Server string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Cloudron at %s: %s", e.Server, reason(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// reason is the innermost useful part of a transport error.
func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return msg + " (nothing listens there: is the server running, and the port right?)"
	case strings.Contains(msg, "no such host"):
		return msg + " (the name does not resolve: check the address)"
	case strings.Contains(msg, "certificate"):
		return msg + " (the TLS certificate is not trusted)"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "timeout"):
		return msg + " (no answer in time)"
	}
	return msg
}

// APIError is an error status the server answered.
type APIError struct {
	Method, Path string
	Status       int
	Message      string // the server's own message, when it gave one
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (the API token is wrong or expired: make one in the dashboard, Profile → API Tokens, and set CPK_CLOUDRON_TOKEN)"
	case http.StatusForbidden:
		msg += " (the token may be read-only, or its user is not an admin: deploying needs a read-write token of an admin)"
	}
	return msg
}

// NotFound reports whether err is a 404 answer.
func NotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// ProtocolError is an answer the API description does not allow.
type ProtocolError struct {
	Method, Path string
	Field        string // the offending field ("" for the whole answer)
	Problem      string
}

func (e *ProtocolError) Error() string {
	where := "the answer"
	if e.Field != "" {
		where = "field " + e.Field
	}
	return fmt.Sprintf("unexpected answer to %s %s: %s: %s (is this a Cloudron, and a version that follows the published API?)", e.Method, e.Path, where, e.Problem)
}

// do sends one request; out (a pointer) receives the JSON answer of a
// success status. The body in is JSON-encoded when not nil.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	u := *c.server
	u.Path = BasePath + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{Server: c.Server(), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{Server: c.Server(), Err: fmt.Errorf("reading the answer to %s %s: %w", method, u.Path, err)}
	}
	if resp.StatusCode >= 400 {
		return &APIError{Method: method, Path: u.Path, Status: resp.StatusCode, Message: errorMessage(data)}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return &ProtocolError{Method: method, Path: u.Path, Problem: fmt.Sprintf("status %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return decodeError(method, u.Path, err, data)
	}
	return nil
}

// decodeError turns a JSON decoding failure into a ProtocolError naming the
// field.
func decodeError(method, path string, err error, data []byte) error {
	pe := &ProtocolError{Method: method, Path: path, Problem: err.Error()}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		pe.Field = te.Field
		pe.Problem = fmt.Sprintf("a JSON %s where the API has %s", te.Value, goType(te.Type.String()))
	case errors.As(err, &se):
		pe.Problem = "not JSON: " + snippet(data)
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		pe.Field, pe.Problem = fe.field, fe.problem
	}
	return pe
}

func goType(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map[") || strings.Contains(t, "."):
		return "an object"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "a boolean"
	}
	return "a " + t
}

// fieldError is a field a decoder refused.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + ": " + e.problem }

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

// errorMessage is the message of an error answer: the description's error
// object ({status, message}), else the text itself.
func errorMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	if json.Unmarshal(data, &e) == nil && (e.Message != "" || e.Status != "") {
		if e.Message != "" {
			return e.Message
		}
		return e.Status
	}
	return snippet(data)
}

// ID is an identifier the API gives as a string or a number (task ids are
// numbers in some answers and strings in others).
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*id = ID(n.String())
		return nil
	}
	if string(b) == "null" {
		*id = ""
		return nil
	}
	return fmt.Errorf("an identifier must be a string or a number, not %s", snippet(b))
}

// taskStarted is the answer of a route that starts a task.
type taskStarted struct {
	TaskID *json.Number `json:"taskId"`
}

func (t taskStarted) id(method, path string) (string, error) {
	if t.TaskID == nil {
		return "", &ProtocolError{Method: method, Path: BasePath + path, Field: "taskId", Problem: "missing"}
	}
	if _, err := strconv.ParseInt(t.TaskID.String(), 10, 64); err != nil {
		return "", &ProtocolError{Method: method, Path: BasePath + path, Field: "taskId", Problem: "not an integer: " + t.TaskID.String()}
	}
	return t.TaskID.String(), nil
}

// startTask posts to a route that answers a task id.
func (c *Client) startTask(ctx context.Context, path string, in any) (string, error) {
	var out taskStarted
	if err := c.do(ctx, http.MethodPost, path, nil, in, &out); err != nil {
		return "", err
	}
	return out.id(http.MethodPost, path)
}
