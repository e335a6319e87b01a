package base

import (
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"cpk/internal/parse/dockerfile"
)

// Cloudron's base images: with --offline every FROM of one of them (any
// tag, any digest) becomes the local base.
var CloudronImages = []string{"cloudron/base", "cloudron/node-base", "cloudron/php-base"}

// Local, as a mapping target, means the local base image.
const Local = "local"

// Mapping says which FROM images a build replaces, and with what. Packages
// keep their real, digest-pinned FROM lines; the mapping applies at build
// time only, to a copy of the Dockerfile.
type Mapping struct {
	// Offline maps every Cloudron base image to the local base.
	Offline bool
	// Map maps repositories (without tag or digest, e.g. cloudron/base) to
	// an image reference, or to Local.
	Map map[string]string
	// LocalRef is the local base image (Repo:<suite>-<hash>).
	LocalRef string
}

// Target returns the image that replaces ref, if any.
func (m Mapping) Target(ref string) (string, bool) {
	repo := Repository(ref)
	to, ok := m.Map[repo]
	if !ok && m.Offline {
		for _, c := range CloudronImages {
			if repo == c {
				to, ok = Local, true
			}
		}
	}
	if !ok {
		return "", false
	}
	if to == Local {
		return m.LocalRef, true
	}
	return to, true
}

// Repository is ref without tag and digest, with Docker Hub's implicit
// names made explicit-free: docker.io/cloudron/base:5.0.0@sha256:… →
// cloudron/base; docker.io/library/debian → debian.
func Repository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
		ref = strings.TrimPrefix(ref, p)
	}
	return strings.TrimPrefix(ref, "library/")
}

// Pinned says whether ref names its image by digest.
func Pinned(ref string) bool { return strings.Contains(ref, "@sha256:") }

// From is one stage's FROM.
type From struct {
	Stage     int    // index of the stage
	Line      int    // 1-based line of the FROM
	Raw       string // the image as written (ARGs unexpanded)
	Ref       string // the image with ARGs expanded
	PrevStage bool   // Ref names an earlier stage, not an image
	Scratch   bool
}

// Froms lists the FROM images of a Dockerfile, ARGs expanded with their
// defaults and the given build args (which override declared ARGs only).
func Froms(data []byte, buildArgs map[string]string) ([]From, error) {
	f, err := dockerfile.Parse(data)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, a := range f.MetaArgs {
		for _, kv := range a.Args {
			v := ""
			if kv.Value != nil {
				v = *kv.Value
			}
			if bv, ok := buildArgs[kv.Key]; ok {
				v = bv
			}
			env[kv.Key] = v
		}
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	lex := shell.NewLex('\\')
	stages := map[string]bool{}
	var out []From
	for i, st := range f.Stages {
		ref, _, err := lex.ProcessWord(st.BaseName, shell.EnvsFromSlice(envList))
		if err != nil {
			return nil, fmt.Errorf("FROM %s: %w", st.BaseName, err)
		}
		line := 0
		if len(st.Location) > 0 {
			line = st.Location[0].Start.Line
		}
		fr := From{Stage: i, Line: line, Raw: st.BaseName, Ref: ref}
		fr.PrevStage = stages[strings.ToLower(ref)]
		fr.Scratch = strings.EqualFold(ref, "scratch")
		out = append(out, fr)
		if st.Name != "" {
			stages[strings.ToLower(st.Name)] = true
		}
	}
	return out, nil
}

// Rewrite returns a copy of the Dockerfile with the image of each FROM in
// replace (stage index → image reference) substituted, every other byte
// left as it was.
func Rewrite(data []byte, froms []From, replace map[int]string) ([]byte, error) {
	lines := strings.SplitAfter(string(data), "\n")
	for _, fr := range froms {
		to, ok := replace[fr.Stage]
		if !ok {
			continue
		}
		i := fr.Line - 1
		if i < 0 || i >= len(lines) {
			return nil, fmt.Errorf("FROM on line %d: no such line", fr.Line)
		}
		// The image follows FROM and its flags; it may sit on a
		// continuation line.
		done := false
		for j := i; j < len(lines) && !done; j++ {
			line := lines[j]
			start := 0
			if j == i {
				k := strings.Index(strings.ToUpper(line), "FROM")
				if k < 0 {
					return nil, fmt.Errorf("line %d: no FROM", fr.Line)
				}
				start = k + len("FROM")
			}
			if k := indexWord(line[start:], fr.Raw); k >= 0 {
				lines[j] = line[:start+k] + to + line[start+k+len(fr.Raw):]
				done = true
			}
		}
		if !done {
			return nil, fmt.Errorf("line %d: cannot find %s to replace", fr.Line, fr.Raw)
		}
	}
	return []byte(strings.Join(lines, "")), nil
}

// indexWord finds w in s as a whole whitespace-separated word.
func indexWord(s, w string) int {
	for off := 0; ; {
		k := strings.Index(s[off:], w)
		if k < 0 {
			return -1
		}
		k += off
		before := k == 0 || s[k-1] == ' ' || s[k-1] == '\t'
		end := k + len(w)
		after := end == len(s) || strings.ContainsRune(" \t\r\n", rune(s[end]))
		if before && after {
			return k
		}
		off = k + 1
	}
}
