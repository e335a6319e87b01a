package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HealthUserAgent is the platform's health checker (§4.4).
const HealthUserAgent = "Mozilla (CloudronHealth)"

// Probe is one health check answer.
type Probe struct {
	Status   int    `json:"status,omitempty"` // 0 when there was no answer
	Location string `json:"location,omitempty"`
	Err      string `json:"error,omitempty"`
}

// Healthy: 2xx. 3xx is healthy for the 2019 platform, but the docs ask
// for 2xx: a warning.
func (p Probe) Healthy() bool { return p.Status >= 200 && p.Status < 400 }

// Redirect says whether the answer was a redirect (a warning).
func (p Probe) Redirect() bool { return p.Status >= 300 && p.Status < 400 }

func (p Probe) String() string {
	switch {
	case p.Err != "":
		return p.Err
	case p.Redirect():
		return fmt.Sprintf("%d %s to %s", p.Status, http.StatusText(p.Status), p.Location)
	}
	return fmt.Sprintf("%d %s", p.Status, http.StatusText(p.Status))
}

// client follows no redirect and gives up after 10 s, as the platform.
var healthClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// HealthURL is what the platform asks: the published httpPort, the
// manifest's healthCheckPath.
func (a *App) HealthURL() string {
	path := a.Manifest.HealthCheckPath
	if path == "" {
		path = "/"
	}
	return "http://127.0.0.1:" + strconv.Itoa(a.HostPort) + path
}

// Check asks the health check once: GET healthCheckPath with the
// platform's Host and User-Agent headers, redirects not followed.
func (a *App) Check(ctx context.Context) Probe {
	return a.Request(ctx, http.MethodGet, a.Manifest.HealthCheckPath, nil, nil).Probe
}

// Response is an HTTP answer of the app.
type Response struct {
	Probe
	Body string
}

// Request sends one request to the app on its published httpPort, as the
// reverse proxy would (Host: the app's domain, X-Forwarded-Proto: https).
func (a *App) Request(ctx context.Context, method, path string, body io.Reader, header map[string]string) Response {
	if path == "" {
		path = "/"
	}
	url := "http://127.0.0.1:" + strconv.Itoa(a.HostPort) + path
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return Response{Probe: Probe{Err: err.Error()}}
	}
	req.Host = a.FQDN()
	req.Header.Set("User-Agent", HealthUserAgent)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", a.FQDN())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "127.0.0.1") {
			msg = msg[i+2:]
		}
		return Response{Probe: Probe{Err: "no answer: " + msg}}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Response{Probe: Probe{Status: resp.StatusCode, Location: resp.Header.Get("Location")}, Body: string(data)}
}

// HealthError is a health check that never passed.
type HealthError struct {
	URL      string
	Last     Probe
	Waited   time.Duration
	Exited   bool // the container stopped
	ExitCode int
	OOM      bool
}

func (e *HealthError) Error() string {
	switch {
	case e.OOM:
		return fmt.Sprintf("the app was killed for lack of memory (OOM) after %s: raise memoryLimit", e.Waited.Round(time.Second))
	case e.Exited:
		return fmt.Sprintf("the app's container exited with code %d after %s, before its health check passed", e.ExitCode, e.Waited.Round(time.Second))
	}
	return fmt.Sprintf("health check GET %s: %s after %s (the platform needs 2xx)", e.URL, e.Last, e.Waited.Round(time.Second))
}

// WaitHealthy asks the health check, often at first and then every second,
// until it passes (2xx, or 3xx with a warning), the container stops, or timeout passes. The platform
// asks every 10 s and waits 10 min before it calls an app unhealthy; a test
// wants to know sooner.
func (a *App) WaitHealthy(ctx context.Context, timeout time.Duration) (Probe, error) {
	if timeout == 0 {
		timeout = a.box.HealthTimeout
	}
	start := time.Now()
	defer func() { a.HealthTook = time.Since(start) }()
	deadline := start.Add(timeout)
	var last Probe
	// The app is probed often while it starts (from 50 ms, doubling up
	// to a second), so that the wait ends soon after it answers; whether
	// its container still runs is asked of the engine at most every
	// third second, or every second while nothing answers (Start has
	// just seen it run).
	wait, inspected := 50*time.Millisecond, start
	for {
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if since := time.Since(inspected); since >= 3*time.Second || (since >= time.Second && last.Status == 0) {
			inspected = time.Now()
			info, err := a.State(ctx)
			if err != nil {
				return last, err
			}
			if !info.Running {
				return last, &HealthError{URL: a.HealthURL(), Last: last, Waited: time.Since(start), Exited: true, ExitCode: info.ExitCode, OOM: info.OOMKilled}
			}
		}
		if a.Manifest.HealthCheckPath == "" {
			// No health check: the platform calls the app healthy; cpk at
			// least waits for the port to answer.
			if r := a.Request(ctx, http.MethodGet, "/", nil, nil); r.Status != 0 {
				return r.Probe, nil
			}
		} else {
			last = a.Check(ctx)
			if last.Healthy() {
				a.box.logf("healthy: GET %s → %s after %s", a.Manifest.HealthCheckPath, last, time.Since(start).Round(100*time.Millisecond))
				return last, nil
			}
		}
		if time.Now().After(deadline) {
			return last, &HealthError{URL: a.HealthURL(), Last: last, Waited: time.Since(start)}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
