package scaffold

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"math"
)

// IconSize is the side of the icon Cloudron expects, in pixels.
const IconSize = 256

// Icon returns a placeholder icon: a 256×256 PNG, a rounded square in a
// colour derived from seed with a white mark for the archetype (a window
// for web, braces-like bars for api, a gear-like ring for worker, a page for
// static). The same seed always gives the same bytes.
func Icon(seed string, a Archetype) []byte {
	sum := sha256.Sum256([]byte(seed))
	hue := float64(sum[0]) / 255 * 360
	bg := hsl(hue, 0.55, 0.45)
	img := image.NewNRGBA(image.Rect(0, 0, IconSize, IconSize))
	white := color.NRGBA{255, 255, 255, 255}
	const margin, radius = 8.0, 40.0
	for y := 0; y < IconSize; y++ {
		for x := 0; x < IconSize; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			if !inRoundedRect(px, py, margin, margin, IconSize-margin, IconSize-margin, radius) {
				continue
			}
			c := bg
			if mark(a, px, py) {
				c = white
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img)
	return b.Bytes()
}

func inRoundedRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

// mark draws the archetype's white shape.
func mark(a Archetype, x, y float64) bool {
	in := func(x0, y0, x1, y1 float64) bool { return x >= x0 && x <= x1 && y >= y0 && y <= y1 }
	d := math.Hypot(x-128, y-128)
	switch a {
	case Web: // a browser window: frame and title bar
		frame := in(56, 64, 200, 192) && !in(68, 100, 188, 180)
		return frame || in(56, 64, 200, 96)
	case API: // < / >
		return line(x, y, 100, 80, 64, 128, 10) || line(x, y, 64, 128, 100, 176, 10) ||
			line(x, y, 156, 80, 192, 128, 10) || line(x, y, 192, 128, 156, 176, 10) || line(x, y, 140, 72, 116, 184, 9)
	case Worker: // a gear: a ring with teeth
		ang := math.Atan2(y-128, x-128)
		teeth := math.Mod(ang+2*math.Pi, math.Pi/4) < math.Pi/8
		return (d >= 40 && d <= 64) || (teeth && d > 64 && d <= 84)
	default: // a page with lines
		page := in(76, 56, 180, 200) && !in(88, 68, 168, 188)
		return page || in(100, 96, 156, 106) || in(100, 124, 156, 134) || in(100, 152, 140, 162)
	}
}

// line reports whether (x, y) lies within w/2 of the segment (x0,y0)-(x1,y1).
func line(x, y, x0, y0, x1, y1, w float64) bool {
	dx, dy := x1-x0, y1-y0
	t := ((x-x0)*dx + (y-y0)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-(x0+t*dx), y-(y0+t*dy)) <= w/2
}

func hsl(h, s, l float64) color.NRGBA {
	c := (1 - math.Abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return color.NRGBA{to(r), to(g), to(b), 255}
}
