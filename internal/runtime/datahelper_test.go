package runtime

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"cpk/internal/engine"
)

// TestDataHelper: an app's data helper starts once however many ask at
// once, runs the markers (not the app's container), goes before the data
// volume it mounts, is started again with the mounts of now after an
// update drops localstorage, and an adopted app's helper left by an
// earlier process is replaced, then removed at uninstall.
func TestDataHelper(t *testing.T) {
	ctx := context.Background()
	f, b := fakeBox(t, Options{BaseImage: "base"})
	defer b.Close(ctx)
	m := decode(t, `{"manifestVersion": 2, "httpPort": 8000, "addons": {"localstorage": {}}}`)
	a := b.NewApp("img", m, "test")
	if err := a.Install(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := a.WriteMarker(ctx, "v"); err != nil {
				t.Error(err)
			}
			if _, err := a.ReadMarkers(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	name := a.ID + "-data"
	if n := f.Count("run " + name); n != 1 {
		t.Errorf("the helper started %d times, want once", n)
	}
	spec := f.Specs[name]
	if spec.Labels["io.cpk.appid"] != a.ID || spec.Labels[LabelRun] != b.RunID || spec.Network != "none" ||
		!slices.ContainsFunc(spec.Volumes, func(m engine.Mount) bool { return m.Target == "/app/data" && m.Source == a.DataVolume }) {
		t.Errorf("helper spec %+v", spec)
	}
	if n, app := f.Count("exec "+name), f.Count("exec "+a.Container); n != 8 || app != 0 {
		t.Errorf("%d marker execs in the helper (want 8), %d in the app", n, app)
	}

	// An update without localstorage: the helper goes before the volume,
	// and the next one mounts no /app/data.
	vol := a.DataVolume
	f.Reset()
	if _, err := a.Reconfigure(ctx, "img", decode(t, `{"manifestVersion": 2, "httpPort": 8000}`), "test"); err != nil {
		t.Fatal(err)
	}
	if i, j := slices.Index(f.Calls, "rm "+name), slices.Index(f.Calls, "volume rm "+vol); i < 0 || j < i {
		t.Errorf("the helper must go before its volume: %v", f.Calls)
	}
	if _, err := a.sh(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(f.Specs[name].Volumes, func(m engine.Mount) bool { return m.Target == "/app/data" }) {
		t.Errorf("a helper without localstorage mounts /app/data: %+v", f.Specs[name].Volumes)
	}
	if _, err := a.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.ListContainers(ctx, map[string]string{"io.cpk.appid": a.ID}); len(left) > 0 || f.Containers[name] != nil {
		t.Errorf("left after uninstall: %v", left)
	}

	// A long-lived box's next process adopts an app whose helper is still
	// there: a use replaces it, the uninstall removes it.
	a2 := b.NewApp("img", m, "two")
	if err := a2.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.sh(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	adopted := b.Adopt(a2.Record(), m)
	f.Reset()
	if _, err := adopted.sh(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Calls, "; "); !strings.Contains(got, "rm "+a2.ID+"-data; run "+a2.ID+"-data") {
		t.Errorf("the adopted app's helper is not replaced: %s", got)
	}
	adopted2 := b.Adopt(a2.Record(), m)
	if _, err := adopted2.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if f.Containers[a2.ID+"-data"] != nil {
		t.Error("an adopted app's uninstall leaves its helper")
	}
}
