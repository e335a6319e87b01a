package sso

import (
	"errors"
	"html"
	"net/url"
	"regexp"
)

// LoginForm is the provider's login form as a client sees it: where it
// posts and its hidden fields.
type LoginForm struct {
	Action string
	Values url.Values
}

var (
	formAction = regexp.MustCompile(`<form[^>]*\saction="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// ParseLoginForm reads the provider's own login page (served at base):
// a test drives the sign-in as a browser would, by submitting it.
func ParseLoginForm(page string, base *url.URL) (*LoginForm, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return nil, errors.New("the page has no login form")
	}
	action, err := base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, err
	}
	f := &LoginForm{Action: action.String(), Values: url.Values{}}
	for _, h := range hiddenIn.FindAllStringSubmatch(page, -1) {
		f.Values.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return f, nil
}
