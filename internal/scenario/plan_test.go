package scenario

import "testing"

// TestSelection: which steps run for a choice of steps, the same rules
// locally and on a server.
func TestSelection(t *testing.T) {
	for _, tc := range []struct {
		sel        selection
		backup     bool
		step, want string
	}{
		{selectionOf(nil, true, false, ""), true, StepRestore, ""},
		{selectionOf(nil, true, false, ""), false, StepRestore, "no backup"},
		{selectionOf([]string{StepRestore}, true, false, ""), false, StepBackup, ""},
		{selectionOf([]string{StepRestore}, true, false, ""), false, StepMove, "not selected"},
		{selectionOf([]string{StepMove}, true, false, ""), false, StepBackup, "not selected"},
		{selectionOf([]string{StepMove}, true, false, ""), false, StepInstall, ""},
		{selectionOf([]string{StepMove}, true, false, ""), false, StepUninstall, ""},
		{selectionOf(nil, false, false, ""), false, StepUpdate, "no previous version"},
		{selectionOf(nil, false, false, "no earlier tested image"), false, StepUpdate, "no earlier tested image"},
		{selectionOf(nil, false, true, ""), false, StepUpdate, ""},
		{selectionOf([]string{StepRestart}, false, true, ""), false, StepUpdate, "not selected"},
	} {
		if got := tc.sel.skip(tc.step, tc.backup); got != tc.want {
			t.Errorf("%+v, backup %v: %s skipped for %q, want %q", tc.sel, tc.backup, tc.step, got, tc.want)
		}
	}
}
