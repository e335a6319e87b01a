package cli

import "cpk/internal/sso"

// ServeSSOIfAsked runs the emulated box's sign-on server instead of the
// command line when cpk is started as one (the runtime runs cpk itself in a
// container for the oidc and proxyAuth add-ons), and exits.
func ServeSSOIfAsked() { sso.ServeIfAsked() }
