package sso

import (
	"net/url"
	"testing"
)

func TestFindForm(t *testing.T) {
	base, _ := url.Parse("https://app.cloudron.test/login/?next=/x")
	page := `<html><body>
<form action="/login/" method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t1"><input name="username"><input type="password" name="password"><button type="submit">Log in</button></form>
<div class="col"><form action="/oauth/login/oidc/?next=%2Fx" method="post" class="sso-login-form">
  <input type="hidden" name="csrfmiddlewaretoken" value="t&amp;2" />
  <input type="hidden" name="next" value="/x" />
  <input type="checkbox" name="remember">
  <input type="submit" name="go" value="Go">
  <button type="submit">Cloudron</button>
</form></div>
<form action="search"><input name="q" value="a"></form>`
	f, err := FindForm(page, base, "/oauth/login/oidc/")
	if err != nil {
		t.Fatal(err)
	}
	if f.Action != "https://app.cloudron.test/oauth/login/oidc/?next=%2Fx" || f.Method != "POST" || f.Values.Encode() != "csrfmiddlewaretoken=t%262&next=%2Fx" {
		t.Errorf("%+v", f)
	}
	f, err = FindForm(page, base, "/login/search")
	if err != nil || f.Method != "GET" || f.Values.Get("q") != "a" {
		t.Errorf("relative action: %+v %v", f, err)
	}
	if _, err := FindForm(page, base, "/nowhere"); err == nil {
		t.Error("found a form that is not there")
	}
}
