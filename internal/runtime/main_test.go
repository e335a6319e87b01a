package runtime

import (
	"os"
	"testing"

	"cpk/internal/dockerproxy"
	"cpk/internal/sso"
)

func TestMain(m *testing.M) {
	sso.ServeIfAsked()         // the box's sign-on server runs this binary (oidc, proxyAuth)
	dockerproxy.ServeIfAsked() // and so does the docker add-on's proxy
	os.Exit(m.Run())
}
