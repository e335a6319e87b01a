package manifest

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The manifest's cronpattern format: a named pattern, or five fields
// separated by single spaces that the cron package (4.4.0) accepts once
// "00 " is put in front as the seconds field.

const cronSecondsMessage = "Invalid cron pattern (note: seconds disallowed)"

// cronPatternError returns "" when s passes the manifest's cronpattern format,
// otherwise the message the official format returns.
func cronPatternError(s string) string {
	switch s {
	case "@service", "@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly":
		return ""
	}
	s = validRunes(s)
	if strings.Count(s, " ") != 4 {
		return cronSecondsMessage
	}
	if msg := parseCronTime("00 " + s); msg != "" {
		return "Invalid cron pattern: " + msg
	}
	return ""
}

// cronUnit is one field of a cron time with the range of values it takes.
type cronUnit struct {
	name      string
	low, high int
	wildcard  string // what '*' stands for
}

// cronUnits are the six fields in order. Months run from 1 to 12; days of the
// week from 0 to 7, both 0 and 7 being Sunday.
var cronUnits = [6]cronUnit{
	{"second", 0, 59, "0-59"},
	{"minute", 0, 59, "0-59"},
	{"hour", 0, 23, "0-23"},
	{"dayOfMonth", 1, 31, "1-31"},
	{"month", 1, 12, "1-12"},
	{"dayOfWeek", 0, 7, "0-7"},
}

// cronDefaults fill the fields a five-field source leaves out (the seconds).
var cronDefaults = [6]string{"0", "*", "*", "*", "*", "*"}

// cronAliases are the month and weekday names, the only letters allowed.
var cronAliases = map[string]string{
	"jan": "1", "feb": "2", "mar": "3", "apr": "4", "may": "5", "jun": "6",
	"jul": "7", "aug": "8", "sep": "9", "oct": "10", "nov": "11", "dec": "12",
	"sun": "0", "mon": "1", "tue": "2", "wed": "3", "thu": "4", "fri": "5", "sat": "6",
}

// parseCronTime is the parsing in cron's CronTime constructor for a source
// that is not a preset: it returns "" when the source parses, else the
// message of the error the constructor throws.
func parseCronTime(src string) string {
	src = jsToLower(src)

	// Every run of ASCII letters is cut into chunks of three from its start,
	// and each chunk must be an alias: "monday" fails on "day".
	var b strings.Builder
	for i := 0; i < len(src); {
		if c := src[i]; c < 'a' || c > 'z' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(src) && j-i < 3 && 'a' <= src[j] && src[j] <= 'z' {
			j++
		}
		num, ok := cronAliases[src[i:j]]
		if !ok {
			return "Unknown alias: " + src[i:j]
		}
		b.WriteString(num)
		i = j
	}

	fields := strings.FieldsFunc(b.String(), isJSSpace)
	switch {
	case len(fields) < len(cronUnits)-1:
		return "Too few fields"
	case len(fields) > len(cronUnits):
		return "Too many fields"
	}
	skip := len(cronUnits) - len(fields) // 1 when the seconds are left out
	for i, unit := range cronUnits {
		value := cronDefaults[i]
		if i >= skip {
			value = fields[i-skip]
		}
		if msg := unit.parseField(value); msg != "" {
			return msg
		}
	}
	return ""
}

// parseField checks one field: a comma-separated list of ranges, each N,
// N-M, N/S, N-M/S ('*' standing for the unit's whole range and allowed only
// at the start of a list item).
func (u cronUnit) parseField(value string) string {
	for item := range strings.SplitSeq(value, ",") {
		if strings.IndexByte(item, '*') > 0 {
			return "Field (" + item + ") has an invalid wildcard expression"
		}
	}
	value = strings.ReplaceAll(value, "*", u.wildcard)
	for item := range strings.SplitSeq(value, ",") {
		lowerText, upperText, stepText, ok := splitCronRange(item)
		if !ok {
			return "Field (" + u.name + ") cannot be parsed"
		}
		// parseInt makes float64s, compared as such (huge values round).
		lower, upper := jsParseDigits(lowerText), jsParseDigits(upperText)
		if upperText == "" {
			upper = lower // with or without a step, only lower is checked
		}
		if stepText != "" && jsParseDigits(stepText) == 0 {
			return "Field (" + u.name + ") has a step of zero"
		}
		if lower > upper {
			return "Field (" + u.name + ") has an invalid range"
		}
		if lower < float64(u.low) || upper > float64(u.high) {
			return "Field value (" + value + ") is out of range"
		}
	}
	return ""
}

// splitCronRange matches ^(\d+)(?:-(\d+))?(?:/(\d+))?$.
func splitCronRange(s string) (lower, upper, step string, ok bool) {
	rest, step, hasStep := strings.Cut(s, "/")
	lower, upper, hasUpper := strings.Cut(rest, "-")
	if !allDigits(lower) || hasUpper && !allDigits(upper) || hasStep && !allDigits(step) {
		return "", "", "", false
	}
	return lower, upper, step, true
}

// jsParseDigits is parseInt(s, 10) for a string of ASCII digits.
func jsParseDigits(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64) // +Inf past the float64 range, as in JavaScript
	return f
}

// jsToLower is String.prototype.toLowerCase as Node.js (ICU, Unicode 17)
// does it: the simple lower-case mappings, U+0130 becoming "i\u0307", and a
// capital sigma becoming final ς at the end of a word.
func jsToLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	runes := []rune(s)
	var b strings.Builder
	for i, r := range runes {
		switch {
		case r == 0x130:
			b.WriteString("i\u0307")
		case r == 0x3A3 && isFinalSigma(runes, i):
			b.WriteRune(0x3C2)
		default:
			b.WriteRune(lowerRune(r))
		}
	}
	return b.String()
}

// lowerRune is unicode.ToLower with the mappings Unicode added after the
// version Go's tables follow.
func lowerRune(r rune) rune {
	switch {
	case r == 0x1C89:
		return 0x1C8A
	case r == 0xA7CB:
		return 0x264
	case r == 0xA7DC:
		return 0x19B
	case r == 0xA7CC, r == 0xA7CE, r == 0xA7D2, r == 0xA7D4, r == 0xA7DA:
		return r + 1
	case 0x10D50 <= r && r <= 0x10D65:
		return r + 0x20
	case 0x16EA0 <= r && r <= 0x16EB8:
		return r + 0x1B
	}
	return unicode.ToLower(r)
}

// isFinalSigma is Unicode's Final_Sigma condition for runes[i]: a cased
// letter before it and none after it, skipping case-ignorable characters.
func isFinalSigma(runes []rune, i int) bool {
	return casedNeighbour(runes, i, -1) && !casedNeighbour(runes, i, 1)
}

func casedNeighbour(runes []rune, i, dir int) bool {
	for j := i + dir; j >= 0 && j < len(runes); j += dir {
		r := runes[j]
		if isCaseIgnorable(r) {
			continue
		}
		return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
			unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
	}
	return false
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
