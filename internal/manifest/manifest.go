package manifest

import "math"

// Manifest is a typed view of CloudronManifest.json. It is best-effort: a
// field whose value has the wrong type is left at its zero value, so use it
// after Check, or together with its errors.
type Manifest struct {
	ID                 string
	Title              string
	Author             string
	Description        string
	Tagline            string
	Version            string
	UpstreamVersion    string
	ManifestVersion    int
	HTTPPort           int
	HealthCheckPath    string
	ConfigurePath      string
	Icon               string
	Changelog          string
	PostInstallMessage string
	DockerImage        string
	MinBoxVersion      string
	MaxBoxVersion      string
	TargetBoxVersion   string
	MemoryLimit        any // as written: a float64 number of bytes or a string such as "512MB"; nil when absent

	Website          string
	ContactEmail     string
	DocumentationURL string
	ForumURL         string

	MultiDomain     bool
	OptionalSso     bool
	AliasableDomain bool

	// Addons maps each addon name to its options, decoded as encoding/json
	// would (float64, string, bool, nil, []any, map[string]any).
	Addons    map[string]map[string]any
	TCPPorts  map[string]Port
	UDPPorts  map[string]Port
	HTTPPorts map[string]HTTPPort
	Checklist map[string]ChecklistItem

	RuntimeDirs  []string
	LogPaths     []string
	Tags         []string
	MediaLinks   []string
	Capabilities []string

	// Fields of newer platforms (gated on minBoxVersion).
	PersistentDirs []string
	BackupCommand  string
	RestoreCommand string
	PackageURL     string
	IconURL        string
	PackagerName   string
	PackagerURL    string
}

// Port is one entry of tcpPorts or udpPorts.
type Port struct {
	Title         string
	Description   string
	ContainerPort int
	DefaultValue  int
	PortCount     int
	ReadOnly      bool
}

// HTTPPort is one entry of httpPorts.
type HTTPPort struct {
	Title           string
	Description     string
	ContainerPort   int
	DefaultValue    string
	AliasableDomain bool
}

// ChecklistItem is one entry of checklist. SSO is nil when absent.
type ChecklistItem struct {
	Message string
	SSO     *bool
}

// Manifest returns the typed view of the document.
func (d *Document) Manifest() Manifest {
	var m Manifest
	if d == nil || d.Root == nil || d.Root.Kind != ObjectValue {
		return m
	}
	r := d.Root
	for key, dst := range map[string]*string{
		"id": &m.ID, "title": &m.Title, "author": &m.Author, "description": &m.Description,
		"tagline": &m.Tagline, "version": &m.Version, "upstreamVersion": &m.UpstreamVersion,
		"healthCheckPath": &m.HealthCheckPath, "configurePath": &m.ConfigurePath, "icon": &m.Icon,
		"changelog": &m.Changelog, "postInstallMessage": &m.PostInstallMessage, "dockerImage": &m.DockerImage,
		"minBoxVersion": &m.MinBoxVersion, "maxBoxVersion": &m.MaxBoxVersion, "targetBoxVersion": &m.TargetBoxVersion,
		"website": &m.Website, "contactEmail": &m.ContactEmail, "documentationUrl": &m.DocumentationURL,
		"forumUrl": &m.ForumURL, "backupCommand": &m.BackupCommand, "restoreCommand": &m.RestoreCommand,
		"packageUrl": &m.PackageURL, "iconUrl": &m.IconURL, "packagerName": &m.PackagerName, "packagerUrl": &m.PackagerURL,
	} {
		*dst = asString(r.Get(key))
	}
	for key, dst := range map[string]*[]string{
		"runtimeDirs": &m.RuntimeDirs, "logPaths": &m.LogPaths, "tags": &m.Tags, "mediaLinks": &m.MediaLinks,
		"capabilities": &m.Capabilities, "persistentDirs": &m.PersistentDirs,
	} {
		*dst = asStrings(r.Get(key))
	}
	m.ManifestVersion = asInt(r.Get("manifestVersion"))
	m.HTTPPort = asInt(r.Get("httpPort"))
	m.MultiDomain = asBool(r.Get("multiDomain"))
	m.OptionalSso = asBool(r.Get("optionalSso"))
	m.AliasableDomain = asBool(r.Get("aliasableDomain"))
	if ml := r.Get("memoryLimit"); ml != nil && (ml.Kind == NumberValue || ml.Kind == StringValue) {
		m.MemoryLimit = ml.Any()
	}

	if addons := r.Get("addons"); addons != nil && addons.Kind == ObjectValue {
		m.Addons = map[string]map[string]any{}
		for _, a := range addons.Members {
			if opts, ok := a.Value.Any().(map[string]any); ok {
				m.Addons[a.Key] = opts
			}
		}
	}
	m.TCPPorts = ports(r.Get("tcpPorts"))
	m.UDPPorts = ports(r.Get("udpPorts"))
	if hp := r.Get("httpPorts"); hp != nil && hp.Kind == ObjectValue {
		m.HTTPPorts = map[string]HTTPPort{}
		for _, e := range hp.Members {
			v := e.Value
			m.HTTPPorts[e.Key] = HTTPPort{
				Title: asString(v.Get("title")), Description: asString(v.Get("description")),
				ContainerPort: asInt(v.Get("containerPort")), DefaultValue: asString(v.Get("defaultValue")),
				AliasableDomain: asBool(v.Get("aliasableDomain")),
			}
		}
	}
	if cl := r.Get("checklist"); cl != nil && cl.Kind == ObjectValue {
		m.Checklist = map[string]ChecklistItem{}
		for _, e := range cl.Members {
			item := ChecklistItem{Message: asString(e.Value.Get("message"))}
			if sso := e.Value.Get("sso"); sso != nil && sso.Kind == BoolValue {
				b := sso.Bool
				item.SSO = &b
			}
			m.Checklist[e.Key] = item
		}
	}
	return m
}

func ports(v *Value) map[string]Port {
	if v == nil || v.Kind != ObjectValue {
		return nil
	}
	out := map[string]Port{}
	for _, e := range v.Members {
		p := e.Value
		out[e.Key] = Port{
			Title: asString(p.Get("title")), Description: asString(p.Get("description")),
			ContainerPort: asInt(p.Get("containerPort")), DefaultValue: asInt(p.Get("defaultValue")),
			PortCount: asInt(p.Get("portCount")), ReadOnly: asBool(p.Get("readOnly")),
		}
	}
	return out
}

func asString(v *Value) string {
	if v == nil || v.Kind != StringValue {
		return ""
	}
	return v.Str
}

func asBool(v *Value) bool { return v != nil && v.Kind == BoolValue && v.Bool }

// asInt returns an integral number that fits an int32, else 0.
func asInt(v *Value) int {
	if v == nil || !hasType(v, "integer") || math.Abs(v.Num) > math.MaxInt32 {
		return 0
	}
	return int(v.Num)
}

func asStrings(v *Value) []string {
	if v == nil || v.Kind != ArrayValue {
		return nil
	}
	out := make([]string, 0, len(v.Items))
	for _, it := range v.Items {
		if it.Kind == StringValue {
			out = append(out, it.Str)
		}
	}
	return out
}

// Any returns the value as encoding/json would decode it into an interface:
// nil, bool, float64, string, []any or map[string]any.
func (v *Value) Any() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case BoolValue:
		return v.Bool
	case NumberValue:
		return v.Num
	case StringValue:
		return v.Str
	case ArrayValue:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Any()
		}
		return out
	case ObjectValue:
		out := make(map[string]any, len(v.Members))
		for _, m := range v.Members {
			out[m.Key] = m.Value.Any()
		}
		return out
	}
	return nil
}
