package status

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/fsx"
	"cpk/internal/lint"
)

// Cache keeps what the report computes per package — its lint findings and
// whether its README is current — under a key of everything they depend
// on: the package's content hash, its hidden files (.dockerignore,
// .cpk-ignore), its cpk.yaml and evidence file, the rules in force and the
// cpk binary. An unchanged package is then neither linted
// nor rendered again. It is distinct from the results store: nothing in it
// is a result worth keeping, and deleting it costs only time.
type Cache struct {
	Dir string // .cpk/cache/status
	// Tool identifies the program whose rules and templates made the
	// entries (default: the running executable's size and time).
	Tool string

	once  sync.Once
	rules string
}

type cacheEntry struct {
	Findings    []cpk.Finding `json:"findings"`
	DocsCurrent bool          `json:"docsCurrent"`
}

// key is the entry's name for a package with these contents.
func (c *Cache) key(reg *lint.Registry, a *catalog.App, contents *evidence.Contents) string {
	c.once.Do(func() {
		if c.Tool == "" {
			if exe, err := os.Executable(); err == nil {
				if st, err := os.Stat(exe); err == nil {
					c.Tool = fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano())
				}
			}
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00", c.Tool)
		for _, r := range reg.Rules() {
			fmt.Fprintf(h, "%s=%s,%v;", r.Code, reg.Severity(r), reg.Enabled(r.Code))
		}
		c.rules = hex.EncodeToString(h.Sum(nil))
	})
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", c.rules, a.ID, contents.Hash, contents.Others)
	for _, f := range []string{a.File, filepath.Join(a.Dir, filepath.FromSlash(evidence.File))} {
		if fh, err := os.Open(f); err == nil {
			_, _ = io.Copy(h, io.LimitReader(fh, 8<<20))
			fh.Close()
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) get(key string) (cacheEntry, bool) {
	var e cacheEntry
	data, err := os.ReadFile(filepath.Join(c.Dir, key[:2], key+".json"))
	if err != nil || json.Unmarshal(data, &e) != nil {
		return e, false
	}
	return e, true
}

func (c *Cache) put(key string, e cacheEntry) {
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	dir := filepath.Join(c.Dir, key[:2])
	if os.MkdirAll(dir, 0o755) == nil {
		_ = fsx.WriteFile(filepath.Join(dir, key+".json"), data, 0o644)
	}
}
