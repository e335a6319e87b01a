package cpk

// CheckStatus is how one environment check of cpk doctor came out.
type CheckStatus string

const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn" // works, but something is off
	CheckFail CheckStatus = "fail" // a command that needs it will fail
	CheckSkip CheckStatus = "skip" // not applicable or not testable here
)

// Check is one thing cpk doctor looked at: what, how it stands, and the
// fix when it is not ok.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
	Fix    string      `json:"fix,omitempty"`
}
