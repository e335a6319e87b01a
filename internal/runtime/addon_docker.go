package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"cpk/internal/dockerproxy"
	"cpk/internal/engine"
)

// --- docker (§3.3: the app commands the engine through a filtering
// proxy; only the app may reach it, the containers it creates go into the
// box's network, may bind only what is under /app/data, and are removed on
// uninstall) ---
//
// Each app that declares docker gets its own proxy: cpk itself (package
// dockerproxy), mounted read-only into a container of the local base image
// on the box's network, with the engine's API socket and the app's data
// volume (read-only, to check bind sources) mounted. It is not published
// on the host. It answers only the app's container, known by its address
// in the network, as the platform's proxy does; the containers the app
// creates share the network but are refused. What the app creates carries
// the run's labels (Close, the reaper and cpk gc remove it) and
// dockerproxy.LabelOwner (uninstall removes it). Backups hold none of it:
// the app creates its containers again, as after a restore on the platform.

type dockerAddon struct{}

// dockerProxyName is the container of an app's proxy.
func dockerProxyName(b *Box, a *App) string { return "cpk-" + b.RunID + "-docker-" + a.ID }

// labelProxyConfig marks a proxy with a digest of its configuration: a
// box that goes on with its run keeps a proxy whose digest is current.
const labelProxyConfig = "io.cpk.docker.config"

func (dockerAddon) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	b := a.box
	// The proxy checks bind sources against the app's data: set that up
	// first (add-ons are set up in name order).
	if _, ok := a.Manifest.Addons["localstorage"]; ok && a.DataVolume == "" {
		if _, err := (localstorage{}).Setup(ctx, a, nil); err != nil {
			return nil, err
		}
	}
	sock, private, err := b.apiSocket(ctx)
	if err != nil {
		return nil, fmt.Errorf("the docker add-on's proxy talks to the engine's API socket: %w", err)
	}
	exe, err := b.selfBinary()
	if err != nil {
		return nil, err
	}
	// cpk's own podman service makes its socket again when it restarts:
	// mount its folder, not the file.
	const sockDir = "/run/cpk-engine"
	mnt := engine.Mount{Source: sock, Target: sockDir + "/engine.sock"}
	inSock := mnt.Target
	if private {
		mnt = engine.Mount{Source: filepath.Dir(sock), Target: sockDir}
		inSock = sockDir + "/" + filepath.Base(sock)
	}
	owned := b.Labels("docker")
	cfg := dockerproxy.Config{App: a.ID, Run: b.RunID, Network: b.Network, Labels: owned, Socket: inSock, DataVolume: a.DataVolume}
	data, _ := json.Marshal(cfg)
	sum := sha256.Sum256(append(append(data, exe...), mnt.Source...))
	digest := hex.EncodeToString(sum[:8])
	name := dockerProxyName(b, a)
	b.own("container "+name, func(ctx context.Context) error { return b.Engine.Remove(ctx, name) })
	info, err := b.Engine.InspectContainer(ctx, name)
	switch {
	case err == nil && info.Running && info.Labels[labelProxyConfig] == digest:
		b.logf("the docker proxy %s runs", name)
	case err == nil || errors.Is(err, engine.ErrNotFound):
		if err == nil {
			if err := b.Engine.Remove(ctx, name); err != nil {
				return nil, err
			}
		}
		b.logf("start the docker proxy %s for %s", name, a.ID)
		labels := b.Labels("addon")
		labels[labelProxyConfig] = digest
		vols := []engine.Mount{{Source: exe, Target: "/usr/local/bin/cpk-docker-proxy", ReadOnly: true}, mnt}
		if a.DataVolume != "" {
			vols = append(vols, engine.Mount{Source: a.DataVolume, Target: dockerproxy.DataDir, ReadOnly: true})
		}
		if _, err := b.Engine.Run(ctx, engine.RunSpec{Name: name, Image: b.BaseImage, Cmd: []string{"/usr/local/bin/cpk-docker-proxy"},
			Env: map[string]string{dockerproxy.EnvServe: "serve", dockerproxy.EnvConfig: string(data)}, Labels: labels,
			Hostname: "docker", Network: b.Network, ReadOnly: true, Volumes: vols}); err != nil {
			return nil, fmt.Errorf("start the docker proxy: %w", err)
		}
		if err := b.waitReady(ctx, name, []string{"python3", "-c", fmt.Sprintf("import socket; socket.create_connection(('127.0.0.1', %d), 1).close()", dockerproxy.Port)}, "docker proxy"); err != nil {
			return nil, err
		}
		if info, err = b.Engine.InspectContainer(ctx, name); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("inspect the docker proxy: %w", err)
	}
	ip := info.Networks[b.Network]
	if ip == "" {
		return nil, fmt.Errorf("the docker proxy %s has no address in %s", name, b.Network)
	}
	host := "tcp://" + ip + ":" + strconv.Itoa(dockerproxy.Port)
	// DOCKER_HOST is what the 2019 platform set (and what Docker's
	// clients read); the current docs name CLOUDRON_DOCKER_HOST.
	return map[string]string{"CLOUDRON_DOCKER_HOST": host, "DOCKER_HOST": host}, nil
}

// apiSocket returns the engine's API socket, opened once per box (and
// closed with it) when cpk drives the engine through its command line.
func (b *Box) apiSocket(ctx context.Context) (string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.engineSocket != "" {
		return b.engineSocket, b.engineSocketPrivate, nil
	}
	sock, private, release, err := engine.APISocket(ctx, b.Engine)
	if err != nil {
		return "", false, err
	}
	b.OnClose("the engine's API for the docker proxies", func(context.Context) error { return release() })
	b.engineSocket, b.engineSocketPrivate = sock, private
	return sock, private, nil
}

// Teardown (uninstall) stops the proxy and removes every container the
// app created, with their anonymous volumes.
func (dockerAddon) Teardown(ctx context.Context, a *App) error {
	b := a.box
	err := b.Engine.Remove(ctx, dockerProxyName(b, a))
	removed, rerr := b.Engine.RemoveLabelled(ctx, map[string]string{LabelRun: b.RunID, dockerproxy.LabelOwner: a.ID})
	for _, r := range removed {
		b.logf("removed the app's %s %s", r.Kind, r.Name)
	}
	return errors.Join(err, rerr)
}
