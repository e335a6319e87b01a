package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"cpk/internal/cpk"
)

func TestPushes(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := open(t, b)
		ctx := context.Background()
		push := func(app, hash, registry string, at time.Time, digest string) cpk.Push {
			return cpk.Push{App: app, Hash: hash, Version: "1.0.1", Image: "localhost/cpk/" + app + ":0123456789abcdef",
				Registry: registry, Reference: registry + "/" + app + ":1.0.1-0123456789abcdef", Digest: "sha256:" + strings.Repeat(digest, 64),
				Size: 313506099, Pushed: at}
		}
		old := push("webhook", "h1", "127.0.0.1:5000/cpk", t0, "a")
		other := push("webhook", "h1", "registry.example.com/team", t0.Add(time.Minute), "b")
		newest := push("webhook", "h1", "127.0.0.1:5000/cpk", t0.Add(2*time.Minute), "c")
		changed := push("webhook", "h2", "127.0.0.1:5000/cpk", t0.Add(3*time.Minute), "d")
		for _, p := range []cpk.Push{old, other, newest, changed, push("redmine", "h1", "127.0.0.1:5000/cpk", t0, "e")} {
			if err := s.RecordPush(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.LastPush(ctx, "webhook", "h1", "127.0.0.1:5000/cpk")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Error("no id")
		}
		newest.ID = got.ID
		if !reflect.DeepEqual(got, newest) {
			t.Errorf("last push\n%+v\nwant\n%+v", got, newest)
		}
		if got.Pinned() != "127.0.0.1:5000/cpk/webhook@sha256:"+strings.Repeat("c", 64) {
			t.Errorf("pinned %s", got.Pinned())
		}
		if any, _ := s.LastPush(ctx, "webhook", "h1", ""); any.Digest != newest.Digest {
			t.Errorf("any registry: %+v", any)
		}
		all, err := s.Pushes(ctx, cpk.PushQuery{App: "webhook", Hash: "h1"})
		if err != nil || len(all) != 3 || all[0].Digest != newest.Digest || all[2].Digest != old.Digest {
			t.Errorf("pushes of webhook h1: %+v %v", all, err)
		}
		_, err = s.LastPush(ctx, "webhook", "h3", "")
		if !errors.Is(err, cpk.ErrNoPush) || !strings.Contains(err.Error(), "run cpk push webhook --registry") {
			t.Errorf("never pushed: %v", err)
		}
		bad := newest
		bad.Digest = "md5:x"
		if err := s.RecordPush(ctx, bad); err == nil {
			t.Error("a digest that is not sha256 was recorded")
		}
		if err := s.RecordPush(ctx, cpk.Push{App: "x"}); err == nil || !strings.Contains(err.Error(), "no content hash, registry, reference, digest, time") {
			t.Errorf("empty push: %v", err)
		}
	})
}
