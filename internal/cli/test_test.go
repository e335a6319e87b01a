package cli

import (
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/scenario"
)

func TestJUnit(t *testing.T) {
	res := []*scenario.Result{{App: "demo", Seconds: 3, Outcome: cpk.OutcomeFailed, Steps: []*scenario.StepResult{
		{Name: "install", Outcome: cpk.OutcomeFailed, Seconds: 2, Checks: []scenario.Check{{Name: "healthy", Status: scenario.Failed, Message: "404 <Not Found>"}}},
		{Name: "restart", Outcome: cpk.OutcomeSkipped, Message: "an earlier step failed"},
	}}}
	out, err := junitXML(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`<testsuite name="cpk test demo" tests="2" failures="1" errors="0" skipped="1"`, `<failure message="healthy: 404 &lt;Not Found&gt;">`, `<skipped message="an earlier step failed">`} {
		if !strings.Contains(s, want) {
			t.Errorf("no %s in\n%s", want, s)
		}
	}
}
