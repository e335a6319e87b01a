package base

import (
	"context"
	"errors"
	"fmt"
	"os"

	"cpk/internal/cpk"
	"cpk/internal/engine"
)

// Diagnose checks what cpk base build needs on this machine, and whether
// the local base exists (e may be nil when no engine answers).
func Diagnose(ctx context.Context, e engine.Engine, stateDir string) []cpk.Check {
	var cs []cpk.Check
	add := func(name string, st cpk.CheckStatus, detail, fix string) {
		cs = append(cs, cpk.Check{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	if p, err := engine.LookPath("debootstrap"); err != nil {
		add("debootstrap", cpk.CheckFail, "not installed: cpk base build makes the root filesystem with it", "apt-get install debootstrap")
	} else if os.Geteuid() != 0 {
		add("debootstrap", cpk.CheckWarn, p+", but cpk is not running as root, which debootstrap needs", "run cpk base build as root (or with sudo)")
	} else {
		add("debootstrap", cpk.CheckOK, p, "")
	}
	if _, err := engine.LookPath("tar"); err != nil {
		add("tar", cpk.CheckFail, "not installed", "apt-get install tar")
	}
	main, sec := hostMirrors()
	add("apt mirror", cpk.CheckOK, main+" (security: "+sec+")", "")
	cas, err := HostCAs()
	switch {
	case err != nil:
		add("extra CA certificates", cpk.CheckWarn, err.Error(), "")
	case len(cas) == 0:
		add("extra CA certificates", cpk.CheckOK, "none in "+HostCADir+" (add --ca-file to cpk base build behind an intercepting proxy)", "")
	default:
		if _, err := readCAs(cas); err != nil {
			add("extra CA certificates", cpk.CheckFail, err.Error(), "fix or remove the file, then update-ca-certificates")
		} else {
			add("extra CA certificates", cpk.CheckOK, fmt.Sprintf("%d in %s, copied into the base image", len(cas), HostCADir), "")
		}
	}
	ref, err := LocalRef(stateDir)
	if err != nil {
		add("base image", cpk.CheckFail, err.Error(), "cpk base build")
		return cs
	}
	if e == nil {
		add("base image", cpk.CheckSkip, ref+": no engine to ask", "")
		return cs
	}
	img, err := Inspect(ctx, e, ref)
	switch {
	case errors.Is(err, ErrMissing):
		add("base image", cpk.CheckWarn, ref+" does not exist yet (cpk build --offline needs it)", "cpk base build")
	case err != nil:
		add("base image", cpk.CheckFail, err.Error(), "")
	default:
		add("base image", cpk.CheckOK, fmt.Sprintf("%s (%s, %s)", ref, engine.ShortID(img.ID), img.Created.Format("2006-01-02 15:04")), "")
	}
	return cs
}
