package rules

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/lint"
	"cpk/internal/parse/shell"
)

// This file holds what rules share about the image the package builds: which
// package files reach it (so that rules about variables, secrets and files
// judge what runs, not the package's CI, tests or docs), and the one
// resolution of the Dockerfile's ENV and ARG values that every rule uses.

// imageEnv returns the known ENV values the final stage's container starts
// with (ARG values do not last into the container): the ENV instructions of
// the final stage and of the stages it is built FROM, each value resolved
// through the ARG and ENV values before it (shell.StepVars). Rules that read
// the start script or other scripts of the image resolve $NAME with it.
func imageEnv(p *lint.Pass) map[string]string {
	return p.Memo("image:env", func() any {
		df := p.Dockerfile()
		if df == nil || df.File == nil || len(df.File.Stages) == 0 {
			return map[string]string{}
		}
		f := df.File
		var chain []int // the final stage and the stages it is built FROM, final first
		for i := len(f.Stages) - 1; i >= 0 && len(chain) <= len(f.Stages); {
			chain = append(chain, i)
			_, parent, _ := stageBase(f, i)
			if parent < 0 || parent >= i {
				break
			}
			i = parent
		}
		var env map[string]string
		for k := len(chain) - 1; k >= 0; k-- {
			env = shell.StageEnv(f, chain[k], env)
		}
		return env
	}).(map[string]string)
}

// devDirs are folders of a package that hold development material: CI,
// tests, fixtures, documentation, translations.
var devDirs = map[string]bool{
	".github": true, ".gitlab": true, ".circleci": true, ".ci": true, ".woodpecker": true, ".buildkite": true,
	"test": true, "tests": true, "__tests__": true, "spec": true, "specs": true, "e2e": true, "cypress": true,
	"fixtures": true, "testdata": true, "__fixtures__": true, "__mocks__": true,
	"docs": true, "doc": true, "documentation": true, "screenshots": true,
	"locales": true, "locale": true, "i18n": true, "translations": true, "lang": true, "l10n": true,
}

// devNames are files of development tooling: CI definitions, lockfiles.
var devNames = map[string]bool{
	".gitlab-ci.yml": true, ".travis.yml": true, "jenkinsfile": true, ".drone.yml": true, "azure-pipelines.yml": true,
	"bitbucket-pipelines.yml": true, ".gitignore": true, ".dockerignore": true, ".editorconfig": true,
	"package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true, "pnpm-lock.yaml": true, "bun.lockb": true,
	"composer.lock": true, "gemfile.lock": true, "poetry.lock": true, "pipfile.lock": true, "uv.lock": true,
	"cargo.lock": true, "go.sum": true, "mix.lock": true, "pubspec.lock": true, "gradle.lockfile": true,
}

// devExts are extensions of translations, stylesheets and documentation.
var devExts = map[string]bool{
	".po": true, ".pot": true, ".mo": true, ".arb": true, ".xliff": true, ".xlf": true,
	".css": true, ".scss": true, ".sass": true, ".less": true, ".styl": true,
	".md": true, ".markdown": true, ".rst": true, ".adoc": true,
}

// devFile reports whether a package file is development material that does
// not run in the image even when a COPY takes it along: CI workflows, tests
// and fixtures, documentation, development compose files, lockfiles,
// translations and stylesheets.
func devFile(rel string) bool {
	base := strings.ToLower(path.Base(rel))
	if devNames[base] || devExts[path.Ext(base)] {
		return true
	}
	dir := path.Dir(rel)
	for dir != "." && dir != "/" && dir != "" {
		if devDirs[strings.ToLower(path.Base(dir))] {
			return true
		}
		dir = path.Dir(dir)
	}
	stem := strings.TrimSuffix(base, path.Ext(base))
	switch {
	case strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "compose.") || strings.HasPrefix(base, "compose-"):
		return true // development compose files: the platform does not run them
	case strings.HasSuffix(stem, ".test") || strings.HasSuffix(stem, ".spec") || strings.HasSuffix(stem, "_test") ||
		strings.HasPrefix(base, "test_") || strings.HasPrefix(base, "conftest."):
		return true
	}
	return false
}

// inImage reports whether a package file is judged as part of what the
// image runs: a file that a COPY or ADD of the final stage (or of a stage
// the final stage copies from or is built on) takes in, or one such a file
// sources, and that is not development material (devFile). The Dockerfile
// and the manifest are always in scope. Without a Dockerfile that parses,
// every file but development material is.
func inImage(p *lint.Pass, rel string) bool {
	if rel == lint.ManifestFile || isDockerfile(p, rel) {
		return true
	}
	if devFile(rel) {
		return false
	}
	files := imageFiles(p)
	if files == nil {
		return true
	}
	return files[rel]
}

// imageFiles returns the package files that reach the image (nil when the
// package has no Dockerfile that parses).
func imageFiles(p *lint.Pass) map[string]bool {
	return p.Memo("image:files", func() any {
		df := p.Dockerfile()
		if df == nil || df.File == nil || len(df.File.Stages) == 0 {
			return map[string]bool(nil)
		}
		f := df.File
		l := layout(p)
		out := map[string]bool{}
		for file := range l.byFile {
			out[file] = true
		}
		// Stages the final one copies from or is built on: what they take
		// from the package may reach the image as a build's output.
		final := len(f.Stages) - 1
		feeds := ancestry(f)
		for _, c := range f.Stages[final].Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				if i := stageIndex(f, cp.From, final); i >= 0 {
					feeds[i] = true
				}
			}
		}
		for i := range f.Stages {
			if i == final || !feeds[i] {
				continue
			}
			sub := &imageLayout{byImage: map[string]string{}, byFile: map[string][]string{}}
			workdir := "/"
			for _, c := range f.Stages[i].Commands {
				switch c := c.(type) {
				case *instructions.WorkdirCommand:
					workdir = path.Join(workdir, c.Path)
				case *instructions.CopyCommand:
					sub.addCopy(p, c.SourcesAndDest, workdir, 0, "", c.From != "")
				case *instructions.AddCommand:
					sub.addCopy(p, c.SourcesAndDest, workdir, 0, "", false)
				}
			}
			for file := range sub.byFile {
				out[file] = true
			}
		}
		// What the image's shell scripts source (. file, source file).
		queue := make([]string, 0, len(out))
		for file := range out {
			queue = append(queue, file)
		}
		for len(queue) > 0 {
			rel := queue[0]
			queue = queue[1:]
			for _, src := range sourcedFiles(p, rel, l) {
				if !out[src] {
					out[src] = true
					queue = append(queue, src)
				}
			}
		}
		return out
	}).(map[string]bool)
}

// sourcedFiles returns the package files a shell script of the image reads
// with "." or "source", found by their image path (or, for a relative path,
// beside the script in the package).
func sourcedFiles(p *lint.Pass, rel string, l *imageLayout) []string {
	data, err := p.ReadFile(rel)
	if err != nil || len(data) > maxScanned || !isShellFile(rel, data) {
		return nil
	}
	s := parsedShell(p, rel, data)
	if s == nil {
		return nil
	}
	var out []string
	for _, c := range s.Commands {
		if n := c.Name(); (n != "." && n != "source") || len(c.Args) < 2 || !c.Args[1].Known {
			continue
		}
		target := c.Args[1].Value
		if path.IsAbs(target) {
			if file, ok := l.byImage[path.Clean(target)]; ok {
				out = append(out, file)
			}
			continue
		}
		if cand := path.Join(path.Dir(rel), target); p.Exists(cand) {
			out = append(out, cand)
		}
	}
	return out
}
