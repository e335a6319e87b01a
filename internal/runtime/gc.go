package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"cpk/internal/engine"
)

// GCResult is what cpk gc found and removed.
type GCResult struct {
	Removed []engine.Resource `json:"removed"`
	// Live are the resources of runs whose process still runs (kept).
	Live []engine.Resource `json:"live"`
	// Foreign are the resources of runs on other machines (kept).
	Foreign []engine.Resource `json:"foreign"`
	// Boxes are the resources of long-lived boxes (cpk box serve) whose
	// state still names them (kept; cpk box down removes them).
	Boxes []engine.Resource `json:"boxes"`
}

// GC removes what dead runs left behind: every container, network and
// volume labelled io.cpk.run whose io.cpk.pid process is gone (on this
// machine: io.cpk.host). Containers go first, then networks, then volumes.
func GC(ctx context.Context, e engine.Engine, dryRun bool) (*GCResult, error) {
	all, err := e.ListResources(ctx, map[string]string{LabelRun: ""})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	res := &GCResult{}
	var dead []engine.Resource
	for _, r := range all {
		switch {
		case r.Labels[LabelHost] != "" && r.Labels[LabelHost] != host:
			res.Foreign = append(res.Foreign, r)
		case BoxOwns(r.Labels[LabelBox], r.Labels[LabelRun]):
			res.Boxes = append(res.Boxes, r)
		case processAlive(r.Labels[LabelPID]):
			res.Live = append(res.Live, r)
		default:
			dead = append(dead, r)
		}
	}
	if dryRun {
		engine.SortForRemoval(dead)
		res.Removed = dead
		return res, nil
	}
	res.Removed, err = engine.RemoveResources(ctx, e, dead)
	return res, err
}

// BoxOwns says whether the long-lived box whose state folder is dir still
// names run as its own (its BoxStateFile): its resources are not garbage,
// whether its process runs or not.
func BoxOwns(dir, run string) bool {
	if dir == "" || run == "" {
		return false
	}
	data, err := os.ReadFile(filepath.Join(dir, BoxStateFile))
	if err != nil {
		return false
	}
	var st struct {
		Run string `json:"run"`
	}
	return json.Unmarshal(data, &st) == nil && st.Run == run
}

// ProcessAlive says whether the process with this id runs on this machine.
func ProcessAlive(pid int) bool { return processAlive(strconv.Itoa(pid)) }

// processAlive says whether the process with this id runs (a missing or
// unreadable pid counts as dead).
func processAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	if n == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(n)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
