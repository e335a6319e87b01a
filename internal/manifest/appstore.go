package manifest

import (
	"fmt"
	"strings"
)

// checkAppstore evaluates each condition of the official
// checkAppstoreRequirements separately. A condition is skipped when a field it
// reads has a type on which the official function would crash (the main
// validation reports those).
func checkAppstore(root *Value) []Error {
	var errs []Error
	missing := func(field, msg string) {
		errs = append(errs, Error{Pointer: "", Line: 1, Column: 1, Kind: Appstore,
			Message: fmt.Sprintf("%s is missing in manifest: %s", field, msg)})
	}
	at := func(kind Kind, v *Value, ptr, format string, args ...any) {
		errs = append(errs, Error{Pointer: ptr, Line: v.Line, Column: v.Col, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}

	// 1. dockerImage is cloudron/<id>:<tag>.
	id := root.Get("id")
	switch img := root.Get("dockerImage"); {
	case img == nil:
		missing("dockerImage", "the store needs the image reference, cloudron/<id>:<tag>")
	case img.Kind == StringValue && id != nil && id.Kind == StringValue:
		if want := "cloudron/" + id.Str + ":"; !strings.HasPrefix(img.Str, want) {
			at(Appstore, img, "/dockerImage", "dockerImage must be in cloudron/appid format: %s does not start with %q", quoteShort(img.Str), want)
		}
	}

	// 2. Fields that must be present and not empty (JavaScript truthiness).
	for _, field := range []string{"id", "title", "description", "tagline", "website", "contactEmail", "author", "tags", "icon", "changelog"} {
		v := root.Get(field)
		switch {
		case v == nil:
			missing(field, "the store requires it")
		case !v.truthy():
			at(Appstore, v, "/"+field, "%s is empty in manifest: the store requires a value", field)
		}
	}

	// 3. At least one screenshot.
	switch ml := root.Get("mediaLinks"); {
	case ml == nil:
		missing("mediaLinks", "the store requires at least one screenshot URL")
	case ml.Kind == ArrayValue && len(ml.Items) == 0:
		at(Appstore, ml, "/mediaLinks", "mediaLinks is empty in manifest: the store requires at least one screenshot URL")
	}

	// 4. No reserved addons.
	if addons := root.Get("addons"); addons != nil && addons.Kind == ObjectValue {
		for _, m := range addons.Members {
			if strings.HasPrefix(m.Key, "_") {
				errs = append(errs, Error{Pointer: "/addons/" + escapePointer(m.Key), Line: m.KeyLine, Column: m.KeyCol, Kind: Appstore,
					Message: fmt.Sprintf("cannot publish with reserved addons: %q starts with _", m.Key)})
			}
		}
	}

	// 5. A health check.
	if root.Get("healthCheckPath") == nil {
		missing("healthCheckPath", "the store requires the path the platform polls for health")
	}

	// 6. The version: at most a numeric prerelease, no build metadata.
	if ver := root.Get("version"); ver != nil && ver.Kind == StringValue {
		if sv, ok := parseSemver(ver.Str); ok {
			if len(sv.Prerelease) == 1 && !sv.Prerelease[0].Numeric {
				at(Appstore, ver, "/version", "Version can only contain a numeric prerelease: %s (use e.g. 1.2.3-1)", quoteShort(ver.Str))
			}
			if len(sv.Build) != 0 {
				at(Appstore, ver, "/version", "Build cannot contains build: %s has build metadata (+…); remove it", quoteShort(ver.Str))
			}
		}
	}

	// 7. Features that need a minimum platform version.
	mb := root.Get("minBoxVersion")
	var minBox *semverVersion
	if mb.truthy() {
		if mb.Kind != StringValue {
			return errs // the official semver.lt throws; the schema reports the type
		}
		sv, ok := parseSemver(mb.Str)
		if !ok {
			return errs // semver.lt throws on an invalid version; the schema reports it
		}
		minBox = &sv
	}
	gate := func(v *Value, ptr, feature, version string) {
		want, _ := parseSemver(version)
		if minBox != nil && minBox.compare(want) >= 0 {
			return
		}
		found := "minBoxVersion is not set"
		if minBox != nil {
			found = "minBoxVersion is " + mb.Str
		}
		at(Gate, v, ptr, "%s requires minBoxVersion of at least %s (%s)", feature, version, found)
	}
	for _, f := range []struct{ field, version string }{
		{"upstreamVersion", "7.1.0"}, {"logPaths", "7.1.0"}, {"runtimeDirs", "7.3.3"},
	} {
		if v := root.Get(f.field); v.truthy() {
			gate(v, "/"+f.field, f.field, f.version)
		}
	}
	for _, group := range []string{"tcpPorts", "udpPorts"} {
		if ports := root.Get(group); ports != nil && ports.Kind == ObjectValue {
			for _, m := range ports.Members {
				if pc := m.Value.Get("portCount"); pc.truthy() {
					gate(pc, "/"+group+"/"+escapePointer(m.Key)+"/portCount", group+".portCount", "7.7.0")
				}
			}
		}
	}
	if v := root.Get("checklist"); v.truthy() {
		gate(v, "/checklist", "checklist", "8.0.0")
	}
	addons := root.Get("addons")
	if v := addons.Get("localstorage").Get("sqlite"); v.truthy() {
		gate(v, "/addons/localstorage/sqlite", "sqlite addon", "8.2.0")
	}
	if v := addons.Get("sendmail").Get("requiresValidCertificate"); v.truthy() {
		gate(v, "/addons/sendmail/requiresValidCertificate", "requiresValidCertificate", "9.0.0")
	}
	return errs
}
