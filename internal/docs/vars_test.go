package docs

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// varWords is the definition cloudronVars implements by hand.
var varWords = regexp.MustCompile(`\bCLOUDRON_[A-Z0-9_]*[A-Z0-9]\b`)

// TestCloudronVarsIsTheRegexp: the scanner finds exactly what the regular
// expression finds, on hand-picked edges and on random text.
func TestCloudronVarsIsTheRegexp(t *testing.T) {
	inputs := []string{
		"", "CLOUDRON_", "CLOUDRON_A", "$CLOUDRON_APP_ORIGIN/x", "${CLOUDRON_MYSQL_URL:-}",
		"XCLOUDRON_A", "CLOUDRON_a", "CLOUDRON_A_", "CLOUDRON_A_ b", "CLOUDRON_CLOUDRON_X",
		"XCLOUDRON_ab CLOUDRON_B", "é CLOUDRON_9.", "CLOUDRON_ABC__DEF\nCLOUDRON_Z",
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("CLOUDRN_ABZ09az$ {}-.\n")
	for range 5000 {
		b := []byte("CLOUDRON_")
		for range r.IntN(12) {
			if r.IntN(6) == 0 {
				b = append(b, "CLOUDRON_"...)
			}
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		if r.IntN(2) == 0 {
			b = append([]byte{alphabet[r.IntN(len(alphabet))]}, b...)
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		want := varWords.FindAllString(in, -1)
		if got := cloudronVars([]byte(in)); !slices.Equal(got, want) {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
	}
}
