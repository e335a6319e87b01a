package web

import (
	"fmt"
	"strings"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/status"
)

// chart geometry, in SVG user units.
const (
	chartW, chartH               = 960, 380
	padL, padR, padTop, padBotom = 52, 170, 16, 44
)

// series are the stacked areas of the burn-up, bottom first.
var series = []struct {
	state cpk.State
	color string
}{
	{cpk.Verified, "#2e7d32"},
	{cpk.Packaged, "#1e88e5"},
	{cpk.Draft, "#f9a825"},
}

// BurnUp draws the plan's burn-up as an SVG document: packages per state
// over time (verified, packaged, draft stacked) against the cumulative
// phase targets. It is built from numbers, dates and fixed words only, so
// it needs no escaping.
func BurnUp(timeline []status.Snapshot, total int) string {
	if len(timeline) == 0 {
		timeline = []status.Snapshot{{At: time.Now(), States: map[cpk.State]int{}}}
	}
	if len(timeline) == 1 {
		// One moment: draw it as a day-wide band so it shows.
		prev := timeline[0]
		prev.At = prev.At.Add(-24 * time.Hour)
		timeline = []status.Snapshot{prev, timeline[0]}
	}
	yMax := max(total, 100)
	for _, s := range timeline {
		sum := 0
		for _, se := range series {
			sum += s.States[se.state]
		}
		yMax = max(yMax, sum)
	}
	t0, t1 := timeline[0].At, timeline[len(timeline)-1].At
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Hour
	}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padTop-padBotom)
	x := func(t time.Time) float64 { return padL + plotW*float64(t.Sub(t0))/float64(span) }
	y := func(v int) float64 { return padTop + plotH*(1-float64(v)/float64(yMax)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="burnup" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="burnup-title burnup-desc">`, chartW, chartH, chartW, chartH)
	last := timeline[len(timeline)-1]
	fmt.Fprintf(&b, `<title id="burnup-title">Burn-up: packages per state over time against the phase targets</title>`)
	fmt.Fprintf(&b, `<desc id="burnup-desc">From %s to %s: now %d verified, %d packaged, %d draft; targets %s.</desc>`,
		t0.UTC().Format("2006-01-02"), t1.UTC().Format("2006-01-02"),
		last.States[cpk.Verified], last.States[cpk.Packaged], last.States[cpk.Draft], targetsText())
	b.WriteString(`<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>`)
	// Grid and y axis.
	for v := 0; v <= yMax; v += 25 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e5e7eb" stroke-width="1"/>`, padL, padL+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" font-size="12" fill="#4b5563" font-family="sans-serif">%d</text>`, padL-8, y(v)+4, v)
	}
	// Stacked areas.
	lower := make([]int, len(timeline))
	for _, se := range series {
		upper := make([]int, len(timeline))
		var top, bottom []string
		for i, s := range timeline {
			upper[i] = lower[i] + s.States[se.state]
			top = append(top, fmt.Sprintf("%.1f,%.1f", x(s.At), y(upper[i])))
		}
		for i := len(timeline) - 1; i >= 0; i-- {
			bottom = append(bottom, fmt.Sprintf("%.1f,%.1f", x(timeline[i].At), y(lower[i])))
		}
		fmt.Fprintf(&b, `<polygon class="area area-%s" points="%s %s" fill="%s" fill-opacity="0.85" stroke="%s" stroke-width="1"/>`,
			se.state, strings.Join(top, " "), strings.Join(bottom, " "), se.color, se.color)
		lower = upper
	}
	// Targets.
	for _, t := range phaseTargets() {
		if t.Target > yMax {
			continue
		}
		fmt.Fprintf(&b, `<line class="target" x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#b91c1c" stroke-width="1.5" stroke-dasharray="6 4"/>`, padL, padL+plotW, y(t.Target), y(t.Target))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#b91c1c" font-family="sans-serif">phase %d target: %d</text>`, padL+plotW+6, y(t.Target)+4, t.Phase, t.Target)
	}
	// X axis with up to six dates.
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#374151" stroke-width="1"/>`, padL, padL+plotW, y(0), y(0))
	ticks := 5
	for i := 0; i <= ticks; i++ {
		t := t0.Add(span * time.Duration(i) / time.Duration(ticks))
		label := t.UTC().Format("Jan 2")
		if span < 48*time.Hour {
			label = t.UTC().Format("Jan 2 15:04")
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#4b5563" font-family="sans-serif">%s</text>`, x(t), y(0)+18, label)
	}
	// Legend with today's counts.
	ly := padTop + plotH - 70
	for i := len(series) - 1; i >= 0; i-- {
		se := series[i]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`, padL+plotW+6, ly, se.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#111827" font-family="sans-serif">%s: %d</text>`, padL+plotW+24, ly+10, se.state, last.States[se.state])
		ly += 20
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#6b7280" font-family="sans-serif">of %d in the catalog</text>`, padL+plotW+6, ly+10, total)
	b.WriteString(`</svg>`)
	return b.String()
}

func targetsText() string {
	var parts []string
	for _, t := range phaseTargets() {
		parts = append(parts, fmt.Sprintf("phase %d %d", t.Phase, t.Target))
	}
	return strings.Join(parts, ", ")
}
