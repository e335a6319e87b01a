package ci

import (
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// TestWorkflowsPassActionlint lints every generated workflow of both
// providers with actionlint (with shellcheck over the run scripts when it
// is installed, as CI installs it).
func TestWorkflowsPassActionlint(t *testing.T) {
	shellcheck, _ := exec.LookPath("shellcheck")
	if shellcheck == "" {
		t.Log("shellcheck is not installed: the run scripts are not checked by it")
	}
	for _, provider := range Providers {
		files, err := Workflows(WorkflowOptions{Provider: provider})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 {
			t.Fatalf("%s: %d files", provider, len(files))
		}
		for _, path := range WorkflowPaths(files) {
			if !strings.HasPrefix(path, WorkflowDir(provider)+"/") {
				t.Errorf("%s: %s is not in %s", provider, path, WorkflowDir(provider))
			}
			l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: shellcheck})
			if err != nil {
				t.Fatal(err)
			}
			errs, err := l.Lint(path, files[path], nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				t.Errorf("%s %s:%d:%d: %s [%s]", provider, path, e.Line, e.Column, e.Message, e.Kind)
			}
		}
	}
}

type workflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		Needs    any               `yaml:"needs"`
		If       string            `yaml:"if"`
		Outputs  map[string]string `yaml:"outputs"`
		Strategy struct {
			Matrix map[string]any `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name string            `yaml:"name"`
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func parse(t *testing.T, data []byte) workflow {
	t.Helper()
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWorkflowWiring checks what actionlint cannot: the test matrix comes
// from the plan job's output, every shard runs its own shard of the same
// plan and uploads its JUnit, the gate waits for every job, and the
// triggers follow the branch flow.
func TestWorkflowWiring(t *testing.T) {
	for _, provider := range Providers {
		files, _ := Workflows(WorkflowOptions{Provider: provider, Shards: 3, Spot: 2})
		w := parse(t, files[WorkflowDir(provider)+"/cpk.yml"])
		plan, test, gate := w.Jobs["plan"], w.Jobs["test"], w.Jobs["gate"]
		if plan.Outputs["matrix"] != "${{ steps.plan.outputs.matrix }}" {
			t.Errorf("%s: the plan job's matrix output: %q", provider, plan.Outputs["matrix"])
		}
		var planScript string
		for _, s := range plan.Steps {
			if s.ID == "plan" {
				planScript = s.Run
			}
		}
		if !strings.Contains(planScript, "cpk ci plan --base \"$base\" --shards 3 --spot 2 --format json > plan.json") || !strings.Contains(planScript, `matrix=$(jq -c .matrix plan.json)`) {
			t.Errorf("%s: the plan step does not emit the plan's matrix:\n%s", provider, planScript)
		}
		if test.Needs != "plan" || test.Strategy.Matrix["shard"] != "${{ fromJSON(needs.plan.outputs.matrix) }}" {
			t.Errorf("%s: the test matrix does not come from the plan job: needs %v, matrix %v", provider, test.Needs, test.Strategy.Matrix)
		}
		var runsShard, uploadsJUnit bool
		for _, s := range test.Steps {
			if strings.Contains(s.Run, `test --shard "$SHARD" --base "$BASE" --spot 2 --junit junit.xml`) {
				runsShard = true
			}
			if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && strings.Contains(s.With["path"], "junit.xml") && strings.Contains(s.With["path"], "evidence.json") {
				uploadsJUnit = true
			}
		}
		if !runsShard || !uploadsJUnit {
			t.Errorf("%s: every shard runs cpk test --shard with the plan's flags (%v) and uploads its JUnit and evidence (%v)", provider, runsShard, uploadsJUnit)
		}
		if needs, _ := gate.Needs.([]any); len(needs) != 3 || gate.If != "always()" {
			t.Errorf("%s: the gate needs lint, plan and test and always runs: %v %q", provider, gate.Needs, gate.If)
		}
		push, _ := w.On["push"].(map[string]any)
		branches, _ := push["branches"].([]any)
		if len(branches) != 3 || branches[0] != "feature/package-*" {
			t.Errorf("%s: push triggers: %v", provider, branches)
		}
		if _, ok := w.On["pull_request"]; !ok {
			t.Errorf("%s: no pull_request trigger", provider)
		}
		up := parse(t, files[WorkflowDir(provider)+"/cpk-upstream.yml"])
		if sched, _ := up.On["schedule"].([]any); len(sched) != 1 {
			t.Errorf("%s: the upstream sync is not scheduled: %v", provider, up.On)
		}
	}
	if _, err := Workflows(WorkflowOptions{Provider: "jenkins"}); err == nil {
		t.Error("an unknown provider was accepted")
	}
}
