// Package svgchart draws the bench's line charts as standalone SVG, with no
// tools beyond the standard library: a linear x axis, a linear or
// logarithmic y axis, one polyline with point markers per series, a legend.
package svgchart

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
)

// Point is one measurement.
type Point struct{ X, Y float64 }

// Series is one line of the chart.
type Series struct {
	Name   string
	Color  string // any SVG colour, e.g. "#1f77b4"
	Dashed bool
	Points []Point // drawn in order; points that cannot be placed (Y <= 0 on a log axis, NaN) are skipped
}

// Chart is a line chart.
type Chart struct {
	Title, XLabel, YLabel string
	LogY                  bool
	Width, Height         int // pixels; 0 means 800 x 480
	Series                []Series
	// FormatX and FormatY label the ticks; nil prints compact numbers (1.5k, 2M).
	FormatX, FormatY func(float64) string
}

// Palette has distinguishable colours for series.
var Palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"}

// margins around the plot area, in pixels: room for tick labels, axis
// titles and the legend on the right.
const (
	marginLeft   = 70
	marginRight  = 190
	marginTop    = 40
	marginBottom = 55
)

// AppendSVG appends the chart as an SVG document to dst.
func (c Chart) AppendSVG(dst []byte) []byte {
	w, h := c.Width, c.Height
	if w <= 0 || h <= 0 {
		w, h = 800, 480
	}
	pw, ph := float64(w-marginLeft-marginRight), float64(h-marginTop-marginBottom)
	if pw < 10 {
		pw = 10
	}
	if ph < 10 {
		ph = 10
	}

	xmax, ymin, ymax := 0.0, math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !c.placeable(p) {
				continue
			}
			xmax = math.Max(xmax, p.X)
			ymin = math.Min(ymin, p.Y)
			ymax = math.Max(ymax, p.Y)
		}
	}
	if math.IsInf(ymin, 1) { // nothing to draw: an empty frame
		ymin, ymax = 1, 10
	}
	xticks := niceTicks(0, xmax)
	x1 := xticks[len(xticks)-1]
	var yticks []float64
	var y0, y1 float64
	if c.LogY {
		lo, hi := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
		if hi == lo {
			hi++
		}
		for e := lo; e <= hi; e++ {
			yticks = append(yticks, math.Pow(10, e))
		}
		y0, y1 = lo, hi
	} else {
		yticks = niceTicks(math.Min(0, ymin), ymax)
		y0, y1 = yticks[0], yticks[len(yticks)-1]
	}
	px := func(x float64) float64 { return marginLeft + pw*x/x1 }
	py := func(y float64) float64 {
		if c.LogY {
			y = math.Log10(y)
		}
		return marginTop + ph*(1-(y-y0)/(y1-y0))
	}

	b := bytes.NewBuffer(dst)
	fmt.Fprintf(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	text(b, float64(w-marginRight+marginLeft)/2, 22, "middle", "font-size=\"15\" font-weight=\"bold\"", c.Title)

	// Grid, ticks and labels.
	fx, fy := c.FormatX, c.FormatY
	if fx == nil {
		fx = formatTick
	}
	if fy == nil {
		fy = formatTick
	}
	for _, x := range xticks {
		X := px(x)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#e0e0e0"/>`+"\n", X, marginTop, X, marginTop+ph)
		text(b, X, marginTop+ph+16, "middle", "", fx(x))
	}
	for _, y := range yticks {
		Y := py(y)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e0e0e0"/>`+"\n", marginLeft, Y, marginLeft+pw, Y)
		text(b, marginLeft-6, Y+4, "end", "", fy(y))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`+"\n", marginLeft, marginTop, pw, ph)
	text(b, marginLeft+pw/2, float64(h)-12, "middle", "", c.XLabel)
	fmt.Fprintf(b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">`, marginTop+ph/2, marginTop+ph/2)
	escape(b, c.YLabel)
	b.WriteString("</text>\n")

	// Series and legend.
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = Palette[i%len(Palette)]
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		b.WriteString(`<polyline fill="none" stroke="`)
		escape(b, color)
		fmt.Fprintf(b, `" stroke-width="2"%s points="`, dash)
		for _, p := range s.Points {
			if c.placeable(p) {
				fmt.Fprintf(b, "%.1f,%.1f ", px(p.X), py(p.Y))
			}
		}
		b.WriteString("\"/>\n")
		for _, p := range s.Points {
			if c.placeable(p) {
				b.WriteString(`<circle r="3" fill="`)
				escape(b, color)
				fmt.Fprintf(b, `" cx="%.1f" cy="%.1f"/>`+"\n", px(p.X), py(p.Y))
			}
		}
		ly := float64(marginTop + 10 + 20*i)
		lx := float64(w - marginRight + 15)
		b.WriteString(`<line stroke="`)
		escape(b, color)
		fmt.Fprintf(b, `" stroke-width="2"%s x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", dash, lx, ly, lx+28, ly)
		text(b, lx+34, ly+4, "start", "", s.Name)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func (c Chart) placeable(p Point) bool {
	if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) || p.X < 0 {
		return false
	}
	return !c.LogY || p.Y > 0
}

func text(b *bytes.Buffer, x, y float64, anchor, attrs, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" %s>`, x, y, anchor, attrs)
	escape(b, s)
	b.WriteString("</text>\n")
}

func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

// niceTicks returns 4 to 10 evenly spaced round values covering [lo, hi].
func niceTicks(lo, hi float64) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var out []float64
	for v := start; ; v += step {
		out = append(out, v)
		if v >= hi-step*1e-9 {
			break
		}
	}
	return out
}

// Micros labels a value in microseconds with a fitting unit: 50 µs, 2 ms, 1.5 s.
func Micros(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + " s"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " µs"
}

// formatTick prints a tick value compactly: 1500 → 1.5k, 2000000 → 2M.
func formatTick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
