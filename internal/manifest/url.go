package manifest

import (
	"strconv"
	"strings"
)

// isURL is validator 13.15.35's isURL(s, {protocols: [http, https],
// require_tld: true, require_protocol: false, allow_underscores: false,
// host_whitelist: false, host_blacklist: false}) with every other option at
// its default: the protocol may be left out, but if present must be http or
// https; no protocol-relative "//host"; a host is required and must be an IPv4
// address, a fully qualified domain name (isFQDN) or a bracketed IPv6 address;
// an optional user[:password]@; a port, if any, from 1 to 65535; at most 2084
// UTF-16 code units; no whitespace, '<' or '>' anywhere.
func isURL(s string) bool {
	s = validRunes(s)
	if s == "" || containsJSSpace(s) || strings.ContainsAny(s, "<>") {
		return false
	}
	if strings.HasPrefix(s, "mailto:") || utf16Len(s) > 2084 {
		return false
	}
	s, _, _ = strings.Cut(s, "#")
	s, _, _ = strings.Cut(s, "?")

	explicitProtocol := false
	if proto, afterColon, ok := leadingScheme(s); ok {
		// "host:port" and "user:password@host" look like a scheme followed
		// by ':'; validator tells them apart as follows.
		consume := true
		if !strings.HasPrefix(afterColon, "//") {
			beforeSlash, _, _ := strings.Cut(afterColon, "/")
			if beforeAt, _, hasAt := strings.Cut(beforeSlash, "@"); hasAt {
				consume = !isAuthLike(beforeAt) || hasPercentEscape(beforeAt)
			} else {
				consume = afterColon == "" || !isDigit(afterColon[0])
			}
		}
		if consume {
			if p := strings.ToLower(proto); p != "http" && p != "https" {
				return false
			}
			explicitProtocol = true
			s = afterColon
		}
	}
	if strings.HasPrefix(s, "//") {
		if !explicitProtocol {
			return false // protocol-relative URLs are not allowed
		}
		s = s[2:]
	}
	if s == "" {
		return false
	}
	hostPort, _, _ := strings.Cut(s, "/")

	if auth, rest, hasAuth := strings.Cut(hostPort, "@"); hasAuth {
		if auth == "" {
			return false
		}
		fields := strings.Split(auth, ":")
		if len(fields) > 2 {
			return false
		}
		if len(fields) == 2 && fields[0] == "" && fields[1] == "" {
			return false
		}
		hostPort = rest
	}

	host, ipv6, port, hasPort := splitHostPort(hostPort)
	if hasPort && port != "" && !isPortNumber(port) {
		return false // an empty port ("host:") passes
	}
	return isIP(host) || isFQDN(host) || ipv6 != "" && isIPv6(ipv6)
}

// isPortNumber: ASCII digits whose value is 1 to 65535 (leading zeros allowed).
func isPortNumber(s string) bool {
	if !allDigits(s) {
		return false
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 5 {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}

// leadingScheme matches ^([a-z][a-z0-9+.-]*): in any ASCII case, returning the
// scheme and what follows the colon.
func leadingScheme(s string) (scheme, rest string, ok bool) {
	if s == "" || !isASCIILetter(s[0]) {
		return "", "", false
	}
	i := 1
	for i < len(s) && (isASCIILetter(s[i]) || isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// isAuthLike is /^[a-zA-Z0-9\-_.%:]*$/.
func isAuthLike(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIILetter(c) && !isDigit(c) && !strings.ContainsRune("-_.%:", rune(c)) {
			return false
		}
	}
	return true
}

// hasPercentEscape is /%[0-9a-fA-F]{2}/.test(s).
func hasPercentEscape(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			return true
		}
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// splitHostPort splits "[v6]:port" (the brackets holding no ']', the port
// digits) into the IPv6 text and port with an empty host, and anything else at
// its first ':' into host and port (the port keeps any further ':').
func splitHostPort(s string) (host, ipv6, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 1 {
			after := s[end+1:]
			switch {
			case after == "":
				return "", s[1:end], "", false
			case after[0] == ':' && allDigits(after[1:]):
				return "", s[1:end], after[1:], true
			}
		}
	}
	host, port, hasPort = strings.Cut(s, ":")
	return host, "", port, hasPort
}
