package sso

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Form is an HTML form as a browser submits it: where, how, and the
// values of its fields (hidden ones such as a CSRF token, and those with a
// value); a test fills in the rest.
type Form struct {
	Action string // absolute URL
	Method string // GET or POST
	Values url.Values
}

// FindForm finds, on a page served at base, the first form whose action
// (resolved against base) has a path starting with actionPrefix ("" =
// any form), with x/net/html's tokenizer.
func FindForm(page string, base *url.URL, actionPrefix string) (*Form, error) {
	z := html.NewTokenizer(strings.NewReader(page))
	var cur *Form
	var actions []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				if cur != nil {
					return cur, nil // an unclosed form ends with the page
				}
				return nil, fmt.Errorf("no form posting to %s on %s (forms: %s)", actionPrefix, base, strings.Join(actions, ", "))
			}
			return nil, z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			attr := func(k string) (string, bool) {
				for _, a := range t.Attr {
					if a.Key == k {
						return a.Val, true
					}
				}
				return "", false
			}
			switch t.Data {
			case "form":
				action, _ := attr("action")
				u, err := base.Parse(action)
				if err != nil {
					continue
				}
				actions = append(actions, u.Path)
				if cur == nil && strings.HasPrefix(u.Path, actionPrefix) {
					method, _ := attr("method")
					cur = &Form{Action: u.String(), Method: strings.ToUpper(method), Values: url.Values{}}
					if cur.Method != "POST" {
						cur.Method = "GET"
					}
				}
			case "input":
				if cur == nil {
					continue
				}
				name, _ := attr("name")
				typ, _ := attr("type")
				val, _ := attr("value")
				typ = strings.ToLower(typ)
				if name == "" || typ == "submit" || typ == "button" || typ == "image" || ((typ == "checkbox" || typ == "radio") && !hasAttr(t, "checked")) {
					continue
				}
				cur.Values.Add(name, val)
			}
		case html.EndTagToken:
			if t := z.Token(); t.Data == "form" && cur != nil {
				return cur, nil
			}
		}
	}
}

func hasAttr(t html.Token, k string) bool {
	for _, a := range t.Attr {
		if a.Key == k {
			return true
		}
	}
	return false
}

// ParseLoginForm reads the provider's own login page (served at base).
func ParseLoginForm(page string, base *url.URL) (*Form, error) {
	f, err := FindForm(page, base, IssuerPath+PathLogin)
	if err != nil {
		return nil, fmt.Errorf("the page has no login form of the provider: %w", err)
	}
	return f, nil
}
