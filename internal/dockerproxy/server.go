package dockerproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The environment of a proxy started as cpk itself.
const (
	EnvServe  = "CPK_DOCKER_PROXY"        // "serve"
	EnvConfig = "CPK_DOCKER_PROXY_CONFIG" // the Config, as JSON
)

// maxCreateBody bounds a container create request.
const maxCreateBody = 1 << 20

// Proxy is the filtering proxy in front of the engine's API.
type Proxy struct {
	cfg     Config
	engine  *http.Client
	rp      *httputil.ReverseProxy
	resolve Resolver
	log     io.Writer
}

// New returns a proxy for cfg; resolve maps bind sources under /app/data
// (nil: the app has no data, every bind mount is refused).
func New(cfg Config, resolve Resolver, log io.Writer) *Proxy {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", cfg.Socket)
		},
		MaxIdleConns: 8, IdleConnTimeout: 30 * time.Second,
	}
	p := &Proxy{cfg: cfg, engine: &http.Client{Transport: tr, Timeout: 30 * time.Second}, resolve: resolve, log: log}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "http", "docker", "docker"
		},
		Transport:     tr,
		FlushInterval: -1, // logs, pulls and attach stream
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, http.StatusBadGateway, "cpk docker proxy: the engine does not answer: "+err.Error())
		},
	}
	return p
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := p.filter(r)
	if err != nil {
		status, msg := http.StatusInternalServerError, "cpk docker proxy: "+err.Error()
		var ref *Refusal
		if errors.As(err, &ref) {
			status, msg = ref.Status, ref.Message
		}
		fmt.Fprintf(p.log, "%s %s from %s: %d %s\n", r.Method, r.URL.Path, r.RemoteAddr, status, msg)
		writeError(w, status, msg)
		return
	}
	p.rp.ServeHTTP(w, out)
}

// filter checks the caller and the request and returns the request to
// forward.
func (p *Proxy) filter(r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if err := p.allowCaller(ctx, host); err != nil {
		return nil, err
	}
	req, err := Route(r.Method, r.URL.Path)
	if err != nil {
		return nil, err
	}
	out := r.Clone(ctx)
	out.URL.RawPath = ""
	switch req.Op {
	case OpPull:
		if err := CheckPull(r.URL.Query()); err != nil {
			return nil, err
		}
	case OpList:
		q, err := p.cfg.ListQuery(r.URL.Query())
		if err != nil {
			return nil, err
		}
		out.URL.RawQuery = q.Encode()
	case OpCreate:
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		if body, err = p.cfg.FilterCreate(body, p.resolve); err != nil {
			return nil, err
		}
		setBody(out, body)
	case OpContainer, OpExecCreate:
		id, err := p.ownContainer(ctx, req.ID)
		if err != nil {
			return nil, err
		}
		out.URL.Path = req.Version + strings.Replace(req.Path, "/containers/"+req.ID, "/containers/"+id, 1)
		if req.Op == OpExecCreate {
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			if err := CheckExecCreate(body); err != nil {
				return nil, err
			}
			setBody(out, body)
		}
	case OpExec:
		var ex struct{ ContainerID string }
		if err := p.get(ctx, "/exec/"+url.PathEscape(req.ID)+"/json", &ex); err != nil {
			return nil, notFound(err, "exec instance", req.ID)
		}
		if _, err := p.ownContainer(ctx, ex.ContainerID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readBody reads a request's JSON body, at most maxCreateBody.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxCreateBody {
		return nil, &Refusal{Status: http.StatusRequestEntityTooLarge, Message: "cpk docker proxy: the request body is larger than 1 MB"}
	}
	return body, nil
}

func setBody(out *http.Request, body []byte) {
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.Header.Set("Content-Type", "application/json")
	out.Header.Del("Transfer-Encoding")
}

func notFound(err error, what, id string) error {
	var ref *Refusal
	if errors.As(err, &ref) && ref.Status == http.StatusNotFound {
		return &Refusal{Status: http.StatusNotFound, Message: fmt.Sprintf("cpk docker proxy: no such %s: %s (the app sees only what it created)", what, id)}
	}
	return err
}

// ownContainer returns the full id of one of the app's containers; any
// other container is not found.
func (p *Proxy) ownContainer(ctx context.Context, ref string) (string, error) {
	var c struct {
		ID     string `json:"Id"`
		Config struct{ Labels map[string]string }
	}
	if err := p.get(ctx, "/containers/"+url.PathEscape(ref)+"/json", &c); err != nil {
		return "", notFound(err, "container", ref)
	}
	if !p.cfg.Owns(c.Config.Labels) {
		return "", notFound(&Refusal{Status: http.StatusNotFound}, "container", ref)
	}
	return c.ID, nil
}

// allowCaller lets the app's own container in, no one else: the platform
// knows the app by its address in the network, and so does the proxy.
func (p *Proxy) allowCaller(ctx context.Context, ip string) error {
	filters, _ := json.Marshal(map[string][]string{"label": {labelRun + "=" + p.cfg.Run, labelAppID + "=" + p.cfg.App, labelRole + "=app"}})
	var list []struct {
		ID string `json:"Id"`
	}
	if err := p.get(ctx, "/containers/json?filters="+url.QueryEscape(string(filters)), &list); err != nil {
		return fmt.Errorf("find the app's container: %w", err)
	}
	for _, c := range list {
		var info struct {
			NetworkSettings struct {
				Networks map[string]struct{ IPAddress string }
			}
		}
		if err := p.get(ctx, "/containers/"+c.ID+"/json", &info); err != nil {
			continue
		}
		if n, ok := info.NetworkSettings.Networks[p.cfg.Network]; ok && n.IPAddress != "" && n.IPAddress == ip {
			return nil
		}
	}
	return refuse("only the app %s may use this Docker API, not %s (containers the app creates cannot)", p.cfg.App, ip)
}

// get reads a JSON answer of the engine; an error status becomes a Refusal
// with the engine's message.
func (p *Proxy) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return err
	}
	res, err := p.engine.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var e struct{ Message string }
		_ = json.Unmarshal(data, &e)
		return &Refusal{Status: res.StatusCode, Message: e.Message}
	}
	return json.Unmarshal(data, v)
}

// ServeIfAsked runs the proxy and exits when the environment asks for it
// (EnvServe=serve): the runtime runs cpk itself in the proxy's container.
func ServeIfAsked() {
	if os.Getenv(EnvServe) != "serve" {
		return
	}
	if err := serveFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, "cpk docker proxy:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveFromEnv() error {
	var cfg Config
	if err := json.Unmarshal([]byte(os.Getenv(EnvConfig)), &cfg); err != nil {
		return fmt.Errorf("%s: %w", EnvConfig, err)
	}
	if cfg.App == "" || cfg.Run == "" || cfg.Network == "" || cfg.Socket == "" {
		return fmt.Errorf("%s: app, run, network and socket are required", EnvConfig)
	}
	if cfg.Listen == "" {
		cfg.Listen = ":" + strconv.Itoa(Port)
	}
	p := New(cfg, nil, os.Stderr)
	if cfg.DataVolume != "" {
		var v struct{ Mountpoint string }
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.get(ctx, "/volumes/"+url.PathEscape(cfg.DataVolume), &v)
		cancel()
		if err != nil {
			return fmt.Errorf("find the data volume %s: %w", cfg.DataVolume, err)
		}
		p.resolve = DataResolver(DataDir, v.Mountpoint)
	}
	hs := &http.Server{Addr: cfg.Listen, Handler: p, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "cpk docker proxy: app %s, network %s, on %s\n", cfg.App, cfg.Network, cfg.Listen)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
