package cpk

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"healthCheckPath", "httpPort", "tier", "phase", "repo"}
	for word, want := range map[string]string{
		"healthcheckPath": "healthCheckPath", // case
		"healthCehckPath": "healthCheckPath", // transposition
		"tire":            "tier",
		"rep":             "repo",
		"phase":           "", // already known
		"xyz":             "", // nothing close
		"httpPorts":       "httpPort",
		"":                "",
	} {
		if got := Suggest(word, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", word, got, want)
		}
	}
}
