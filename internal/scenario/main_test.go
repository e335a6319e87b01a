package scenario

import (
	"os"
	"testing"

	"cpk/internal/sso"
)

func TestMain(m *testing.M) {
	sso.ServeIfAsked() // the box's sign-on server runs this binary (oidc, proxyAuth)
	os.Exit(m.Run())
}
