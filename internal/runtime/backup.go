package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"cpk/internal/fsx"
	"cpk/internal/manifest"

	"golang.org/x/sync/errgroup"
)

// Backup is an app backup as the platform makes it (§3.4): /app/data, a
// dump file per add-on with data (postgresqldump, mysqldump, dump.rdb)
// and config.json, archived in one .tar.gz.
type Backup struct {
	ID       string            `json:"id"`
	Archive  string            `json:"archive"`
	AppID    string            `json:"appId"`
	Image    string            `json:"image"` // the image a restore starts (§4.8)
	Location string            `json:"location"`
	Manifest manifest.Manifest `json:"-"`
	Raw      json.RawMessage   `json:"-"`
	Files    []string          `json:"files"` // what the archive holds, besides data/
	Bytes    int64             `json:"bytes"`
	// Snapshot is the data as it was backed up: what a restore must give back.
	Snapshot *Snapshot `json:"snapshot"`
}

// Snapshot identifies an app's data: /app/data file by file, each add-on's
// content by digest.
type Snapshot struct {
	// Files maps each path below /app/data to "type mode owner digest".
	Files  map[string]string `json:"files"`
	Addons map[string]string `json:"addons"`
}

// Diff lists how other differs from s (empty when identical).
func (s *Snapshot) Diff(other *Snapshot) []string {
	var out []string
	for _, p := range sortedKeys(s.Files) {
		o, ok := other.Files[p]
		switch {
		case !ok:
			out = append(out, "/app/data/"+p+" is missing")
		case o != s.Files[p]:
			out = append(out, fmt.Sprintf("/app/data/%s differs (%s, was %s)", p, o, s.Files[p]))
		}
	}
	for _, p := range sortedKeys(other.Files) {
		if _, ok := s.Files[p]; !ok {
			out = append(out, "/app/data/"+p+" was not in the backup")
		}
	}
	for _, n := range sortedKeys(s.Addons) {
		if other.Addons[n] != s.Addons[n] {
			out = append(out, fmt.Sprintf("the %s content differs", n))
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Snapshot takes the identity of the app's data now: /app/data (sqlite
// files listed by localstorage by their SQL dump, since a consistent copy
// need not be byte-identical) and each add-on's digest.
func (a *App) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{Files: map[string]string{}, Addons: map[string]string{}}
	if a.DataVolume != "" {
		if a.restored != nil {
			// Listed by the restore, and nothing ran since.
			s.Files, a.restored = a.restored, nil
		} else {
			var err error
			if s.Files, err = a.snapshotFiles(ctx, "/app/data"); err != nil {
				return nil, err
			}
		}
	}
	if err := a.snapshotAddons(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// listFiles is a shell function: list_files ROOT prints, below ROOT, each
// path's type, mode, owner and link target, a line "--", then each
// file's checksum (what readListing reads).
const listFiles = `list_files() (
  cd "$1"
  find . -mindepth 1 -printf '%P\t%y %m %U:%G %l\n'
  echo '--'
  find . -type f -print0 | xargs -0r sha256sum
)
`

// snapshotFiles identifies the files below root in the data helper:
// each file's type, mode, owner and checksum (sqlite files listed by
// localstorage by their SQL dump, since a consistent copy need not be
// byte-identical).
func (a *App) snapshotFiles(ctx context.Context, root string) (map[string]string, error) {
	out, err := a.sh(ctx, listFiles+`list_files "$1"`, root)
	if err != nil {
		return nil, fmt.Errorf("checksum %s: %w", root, err)
	}
	return a.readListing(ctx, root, out)
}

// readListing reads list_files's output for root, and identifies the
// sqlite files localstorage lists by their SQL dump.
func (a *App) readListing(ctx context.Context, root string, out []byte) (map[string]string, error) {
	files := map[string]string{}
	meta, sums, _ := strings.Cut(string(out), "--\n")
	for _, l := range strings.Split(meta, "\n") {
		if p, m, ok := strings.Cut(l, "\t"); ok {
			files[p] = strings.TrimSpace(m)
		}
	}
	for _, l := range strings.Split(sums, "\n") {
		if sum, p, ok := strings.Cut(l, "  "); ok {
			p = strings.TrimPrefix(p, "./")
			files[p] += " " + sum
		}
	}
	for _, p := range SQLitePaths(a.Manifest.Addons["localstorage"]) {
		rel := strings.TrimPrefix(path.Clean(p), "/app/data/")
		if _, ok := files[rel]; !ok {
			continue
		}
		dump, err := a.sh(ctx, `sqlite3 "$1" .dump`, root+"/"+rel)
		if err != nil {
			return nil, fmt.Errorf("sqlite dump of %s: %w", p, err)
		}
		sum := sha256.Sum256(dump)
		meta, _, _ := strings.Cut(files[rel], " ")
		files[rel] = meta + " sqlite:" + hex.EncodeToString(sum[:])
	}
	return files, nil
}

// snapshotAddons adds each add-on's digest, asking every server at once.
func (a *App) snapshotAddons(ctx context.Context, s *Snapshot) error {
	var g errgroup.Group
	var mu sync.Mutex
	for _, n := range sortedAddons(a) {
		if bk, ok := addons[n].(Backuper); ok {
			g.Go(func() error {
				d, err := bk.Digest(ctx, a)
				if err != nil {
					return fmt.Errorf("%s digest: %w", n, err)
				}
				mu.Lock()
				s.Addons[n] = d
				mu.Unlock()
				return nil
			})
		}
	}
	return g.Wait()
}

func sortedAddons(a *App) []string {
	var names []string
	for n := range a.setUp {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Backup backs the app up as the platform does: config.json, each add-on's
// dump, /app/data (consistent copies of the listed sqlite files), then one
// archive in the run's backups folder. The app should be running and
// healthy (§3.4); its data is snapshotted for the restore comparison.
func (a *App) Backup(ctx context.Context) (*Backup, error) {
	id := fmt.Sprintf("app_%s_%s_v%s", a.ID, time.Now().UTC().Format("2006-01-02-150405"), a.Manifest.Version)
	dir, err := a.box.dir("backups")
	if err != nil {
		return nil, err
	}
	stage := filepath.Join(dir, id)
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	bk := &Backup{ID: id, AppID: a.ID, Image: a.Image, Location: a.Location, Manifest: a.Manifest, Raw: a.Raw}
	// What a restore must give back is what the backup holds: the add-ons'
	// digests now, before their dumps, and the files as copied (an app
	// that keeps writing would otherwise differ from its own backup).
	snap := &Snapshot{Files: map[string]string{}, Addons: map[string]string{}}
	if err := a.snapshotAddons(ctx, snap); err != nil {
		return nil, err
	}
	bk.Snapshot = snap
	config := map[string]any{
		"manifest": a.Raw, "location": a.Location, "domain": a.box.Domain, "fqdn": a.FQDN(),
		"memoryLimit": MemoryLimit(a.Manifest), "portBindings": a.portEnv, "image": a.Image, "appId": a.ID,
	}
	data, _ := json.MarshalIndent(config, "", "  ")
	if err := fsx.WriteFile(filepath.Join(stage, "config.json"), append(data, '\n'), 0o600); err != nil {
		return nil, err
	}
	bk.Files = append(bk.Files, "config.json")
	for _, n := range sortedAddons(a) {
		if b, ok := addons[n].(Backuper); ok {
			if err := b.Dump(ctx, a, filepath.Join(stage, b.DumpFile())); err != nil {
				return nil, fmt.Errorf("%s backup: %w", n, err)
			}
			bk.Files = append(bk.Files, b.DumpFile())
		}
	}
	// One exec in the data helper: copy /app/data (consistent copies of
	// the listed sqlite files), list the copy, archive it all.
	script, args := `tar --numeric-owner -C "/backup/$1" -czf "/backup/$1.tar.gz" .`, []string{id}
	if a.DataVolume != "" {
		script = listFiles + `id=$1; shift
mkdir -p "/backup/$id/data" && cp -a /app/data/. "/backup/$id/data/"
while [ $# -gt 1 ]; do
  rel=$1 listed=$2; shift 2
  test -f "/app/data/$rel" || { echo "$listed is listed in localstorage.sqlite.paths but does not exist" >&2; exit 1; }
  sqlite3 "/app/data/$rel" ".backup '/backup/$id/data/$rel.cpk-copy'" && mv "/backup/$id/data/$rel.cpk-copy" "/backup/$id/data/$rel"
  rm -f "/backup/$id/data/$rel-wal" "/backup/$id/data/$rel-shm" "/backup/$id/data/$rel-journal"
done
list_files "/backup/$id/data"
tar --numeric-owner -C "/backup/$id" -czf "/backup/$id.tar.gz" .`
		for _, p := range SQLitePaths(a.Manifest.Addons["localstorage"]) {
			args = append(args, strings.TrimPrefix(path.Clean(p), "/app/data/"), p)
		}
	}
	out, err := a.sh(ctx, script, args...)
	if err != nil {
		return nil, fmt.Errorf("back up /app/data and archive the backup: %w", err)
	}
	if a.DataVolume != "" {
		if snap.Files, err = a.readListing(ctx, "/backup/"+id+"/data", out); err != nil {
			return nil, err
		}
	}
	bk.Archive = stage + ".tar.gz"
	if st, err := os.Stat(bk.Archive); err == nil {
		bk.Bytes = st.Size()
	}
	a.box.logf("backup %s: %s (%d bytes)", id, strings.Join(bk.Files, ", "), bk.Bytes)
	return bk, nil
}

// RestoreFrom fills a freshly set up app from a backup (§3.4): add-ons
// set up, their dumps loaded, /app/data unpacked. The app is not started:
// the caller compares Snapshot with the backup's first.
func (a *App) RestoreFrom(ctx context.Context, bk *Backup) error {
	if err := a.setupAddons(ctx); err != nil {
		return err
	}
	dir, err := a.box.dir("backups")
	if err != nil {
		return err
	}
	if filepath.Dir(bk.Archive) != dir {
		return fmt.Errorf("the backup %s is not in this box's backups folder %s", bk.Archive, dir)
	}
	out := filepath.Join(dir, bk.ID+".restore-"+a.ID[:8])
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(out)
	// One exec in the data helper: unpack, put /app/data back when the
	// app has one, and list it for the Snapshot that compares it with the
	// backup.
	data := ""
	if a.DataVolume != "" {
		data = "data"
	}
	listing, err := a.sh(ctx, listFiles+`tar --numeric-owner -xzf "/backup/$1.tar.gz" -C "/backup/$2"
[ -n "$3" ] || exit 0
find /app/data -mindepth 1 -delete
if [ -d "/backup/$2/data" ]; then cp -a "/backup/$2/data/." /app/data/; fi
list_files /app/data`, bk.ID, filepath.Base(out), data)
	if err != nil {
		return fmt.Errorf("unpack the backup and restore /app/data: %w", err)
	}
	if data != "" {
		if a.restored, err = a.readListing(ctx, "/app/data", listing); err != nil {
			return err
		}
	}
	for _, n := range sortedAddons(a) {
		if b, ok := addons[n].(Backuper); ok {
			f := filepath.Join(out, b.DumpFile())
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("the backup has no %s", b.DumpFile())
			}
			if err := b.Load(ctx, a, f); err != nil {
				return fmt.Errorf("%s restore: %w", n, err)
			}
		}
	}
	return nil
}
