package cli

import (
	"cpk/internal/dockerproxy"
	"cpk/internal/sso"
)

// ServeHelperIfAsked runs one of the emulated box's helper servers instead
// of the command line when cpk is started as one, and exits: the runtime
// runs cpk itself in a container as the sign-on server (the oidc and
// proxyAuth add-ons) and as the docker add-on's filtering proxy.
func ServeHelperIfAsked() {
	sso.ServeIfAsked()
	dockerproxy.ServeIfAsked()
}
