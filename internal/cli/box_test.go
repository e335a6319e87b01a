package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/testenv"
)

func TestBoxServeRefusesRemote(t *testing.T) {
	_, errOut, code := run(t, repo, "", "box", "serve", "--addr", "0.0.0.0:0", "--state", t.TempDir())
	if code != ExitUsage || !strings.Contains(errOut, "--allow-remote") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	_, errOut, code = run(t, repo, "", "box", "serve", "--addr", "8090")
	if code != ExitUsage || !strings.Contains(errOut, "HOST:PORT") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestBoxToken: the flag, else $CPK_BOX_TOKEN, else a token made once in
// the state folder, readable only by its owner.
func TestBoxToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "box")
	t.Setenv("CPK_BOX_TOKEN", "")
	tok, from, err := boxToken("", dir)
	if err != nil || len(tok) < 32 || from != filepath.Join(dir, "token") {
		t.Fatalf("made: %q from %q: %v", tok, from, err)
	}
	if st, err := os.Stat(from); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the token file: %v %v", st.Mode(), err)
	}
	if again, _, _ := boxToken("", dir); again != tok {
		t.Errorf("a second start made another token")
	}
	t.Setenv("CPK_BOX_TOKEN", "from-env")
	if tok, from, _ := boxToken("", dir); tok != "from-env" || from != "$CPK_BOX_TOKEN" {
		t.Errorf("env: %q %q", tok, from)
	}
	if tok, from, _ := boxToken("flag", dir); tok != "flag" || from != "--token" {
		t.Errorf("flag: %q %q", tok, from)
	}
}

// TestBoxServeAndDown runs cpk box serve as a user would: its start-up
// line (JSON) gives the API's address and where the token is, never the
// token; the API answers with it; Ctrl-C stops the server (exit 130); cpk
// box down removes the box.
func TestBoxServeAndDown(t *testing.T) {
	e := basetest.Engine(t)
	basetest.Image(t, e)
	state := filepath.Join(t.TempDir(), "box")
	t.Setenv("CPK_BOX_TOKEN", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Test(&out, &errb), []string{"--root", repo, "box", "serve", "--addr", "127.0.0.1:0", "--state", state, "--format", "json"})
	}()
	var started struct {
		URL       string `json:"url"`
		TokenFrom string `json:"tokenFrom"`
		StateDir  string `json:"stateDir"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for json.Unmarshal([]byte(out.String()), &started) != nil || started.URL == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up line:\n%s\n%s", out.String(), errb.String())
		}
		select {
		case code := <-done:
			t.Fatalf("serve ended (%d):\n%s", code, errb.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	token, err := os.ReadFile(filepath.Join(state, "token"))
	if err != nil || started.TokenFrom != filepath.Join(state, "token") || started.StateDir != state {
		t.Fatalf("start-up line %+v: %v", started, err)
	}
	if strings.Contains(out.String()+errb.String(), strings.TrimSpace(string(token))) {
		t.Error("the token was printed")
	}
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer " + strings.TrimSpace(string(token)), http.StatusOK}} {
		req, _ := http.NewRequest("GET", started.URL+"/apps", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /apps with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
	// While it serves, neither a second server nor down may touch the box.
	if _, errOut, code := run(t, repo, "", "box", "serve", "--addr", "127.0.0.1:0", "--state", state); code != ExitEnvironment || !strings.Contains(errOut, "serves the box") {
		t.Errorf("a second serve: exit %d %s", code, errOut)
	}
	if _, errOut, code := run(t, repo, "", "box", "down", "--state", state); code != ExitEnvironment || !strings.Contains(errOut, "stop it first") {
		t.Errorf("down while serving: exit %d %s", code, errOut)
	}
	cancel()
	if code := <-done; code != ExitInterrupted {
		t.Errorf("serve after Ctrl-C: exit %d\n%s", code, errb.String())
	}
	outDown, errDown, code := run(t, repo, "", "box", "down", "--state", state, "--format", "json")
	var down struct {
		Removed []struct {
			Kind string `json:"kind"`
		} `json:"removed"`
	}
	if code != 0 || json.Unmarshal([]byte(outDown), &down) != nil || len(down.Removed) != 1 || down.Removed[0].Kind != "network" {
		t.Errorf("down: exit %d %s %s", code, outDown, errDown)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("the state folder after down: %v", err)
	}
}
