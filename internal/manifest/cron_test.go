package manifest

import "testing"

const cronPrefix = "Invalid cron pattern: "

var cronTests = []struct {
	in, want string
}{
	{"* * * * *", ""},
	{"*/5 * * * *", ""},
	{"0 0 1 1 *", ""},
	{"59 23 31 12 7", ""}, // 7 is Sunday too
	{"* * * jan mon", ""},
	{"* * * JAN-DEC mon-fri", ""},
	{"* * * * mon,wed,fri", ""},
	{"* * * 1-12/3 *", ""},
	{"0,30 * * * *", ""},
	{"@daily", ""},
	{"@service", ""},
	{"@reboot", ""},
	{"*  * * *", ""}, // runs of whitespace collapse: five fields, "00" becomes the minute
	{" * * * *", ""},

	{"@DAILY", cronSecondsMessage},
	{"@every 5m", cronSecondsMessage},
	{"@weekdays", cronSecondsMessage}, // a cron preset, but not in the manifest's list
	{"* * * *", cronSecondsMessage},
	{"* * * * * *", cronSecondsMessage},
	{"*\t* * * * *", cronPrefix + "Too many fields"},
	{"    ", cronPrefix + "Too few fields"},
	{"60 * * * *", cronPrefix + "Field value (60) is out of range"},
	{"1-60 * * * *", cronPrefix + "Field value (1-60) is out of range"},
	{"0 24 * * *", cronPrefix + "Field value (24) is out of range"},
	{"0 0 0 * *", cronPrefix + "Field value (0) is out of range"},
	{"0 0 * 0 *", cronPrefix + "Field value (0) is out of range"}, // months are 1-12
	{"0 0 * 13 *", cronPrefix + "Field value (13) is out of range"},
	{"0 0 * * 8", cronPrefix + "Field value (8) is out of range"},
	{"0 0 * sun *", cronPrefix + "Field value (0) is out of range"},
	{"*/0 * * * *", cronPrefix + "Field (minute) has a step of zero"},
	{"5-1 * * * *", cronPrefix + "Field (minute) has an invalid range"},
	{"5*,1 * * * *", cronPrefix + "Field (5*) has an invalid wildcard expression"},
	{"** * * * *", cronPrefix + "Field (minute) cannot be parsed"},
	{"? * * * *", cronPrefix + "Field (minute) cannot be parsed"},
	{"1,,2 * * * *", cronPrefix + "Field (minute) cannot be parsed"},
	{"* * L * *", cronPrefix + "Unknown alias: l"},
	{"* * * * monday", cronPrefix + "Unknown alias: day"},
	{"0 0 * * FRİ", cronPrefix + "Field (dayOfWeek) cannot be parsed"}, // İ lower-cases to i + U+0307
	{"9007199254740993-9007199254740992 * * * *", cronPrefix + "Field value (9007199254740993-9007199254740992) is out of range"},
	{"99,ΑΣ * * * *", cronPrefix + "Field value (99,ας) is out of range"}, // final sigma
}

func TestCronPattern(t *testing.T) {
	for _, tt := range cronTests {
		if got := cronPatternError(tt.in); got != tt.want {
			t.Errorf("cronPatternError(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
