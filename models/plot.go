package models

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
)

// The training curves are drawn with the standard library only: a plotting library (gonum.org/v1/plot, with
// its fonts, LaTeX, PDF and SVG back ends) linked 7 MB into every program that imports this package, for one
// optional file. Two panels, axes, ticks, a grid, a legend and up to three lines are little enough to draw
// by hand, on a canvas that writes either SVG text or a PNG (plot_canvas.go).

var (
	trainColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	valColor   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	stepColor  = color.RGBA{R: 150, G: 190, B: 220, A: 255}
	axisColor  = color.RGBA{A: 255}
	gridColor  = color.RGBA{R: 225, G: 225, B: 225, A: 255}
	paperColor = color.RGBA{R: 255, G: 255, B: 255, A: 255}
)

// Picture and panel geometry, in pixels.
const (
	plotWidth, plotHeight = 960, 400
	panelMarginLeft       = 70 // room for the tick labels and the vertical axis label
	panelMarginRight      = 20
	panelMarginTop        = 34 // the title
	panelMarginBottom     = 48 // tick labels and the axis label
	lineWidth             = 2
	dotRadius             = 3.5
)

// PlotHistory draws the loss (left) and accuracy (right) curves of a run: per epoch for the training and
// validation data, plus the training loss and accuracy averaged over every few steps. A path ending in .svg
// gets an SVG picture (real text, scalable); any other path a PNG, lettered with a small built-in bitmap font.
func PlotHistory(h *History, title, path string) error {
	if len(h.Epochs) == 0 {
		return fmt.Errorf("models: no epoch to plot")
	}
	var c canvas
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		c = newSVGCanvas(plotWidth, plotHeight)
	} else {
		c = newPNGCanvas(plotWidth, plotHeight)
	}
	drawHistory(c, h, title)
	return atomicfile.WriteFile(path, 0o644, c.encode)
}

// series is one curve in data coordinates (x in epochs).
type series struct {
	name  string
	color color.RGBA
	dots  bool // mark each point (epoch means), or a plain line (the finer step curve)
	pts   []point
}

// panel is one of the two charts.
type panel struct {
	title, yLabel string
	series        []series
	yMax          float64 // NaN: from the data
	legendTop     bool
}

func drawHistory(c canvas, h *History, title string) {
	loss := panel{title: title + " - loss", yLabel: "cross-entropy", yMax: math.NaN(), legendTop: true}
	acc := panel{title: title + " - accuracy", yLabel: "accuracy", yMax: 1}
	var stepLoss, stepAcc, trainLoss, trainAcc, valLoss, valAcc []point
	for _, s := range h.Steps {
		stepLoss = append(stepLoss, point{s.Epoch, s.Loss})
		stepAcc = append(stepAcc, point{s.Epoch, s.Accuracy})
	}
	for _, e := range h.Epochs {
		x := float64(e.Epoch)
		trainLoss = append(trainLoss, point{x, e.TrainLoss})
		trainAcc = append(trainAcc, point{x, e.TrainAccuracy})
		if !math.IsNaN(e.ValLoss) {
			valLoss = append(valLoss, point{x, e.ValLoss})
			valAcc = append(valAcc, point{x, e.ValAccuracy})
		}
	}
	for _, p := range []struct {
		panel              *panel
		steps, train, vals []point
	}{{&loss, stepLoss, trainLoss, valLoss}, {&acc, stepAcc, trainAcc, valAcc}} {
		for _, s := range []series{
			{"training (every few steps)", stepColor, false, p.steps},
			{"training (epoch mean)", trainColor, true, p.train},
			{"validation", valColor, true, p.vals},
		} {
			if len(s.pts) > 0 {
				p.panel.series = append(p.panel.series, s)
			}
		}
	}
	c.rect(0, 0, plotWidth, plotHeight, paperColor)
	drawPanel(c, loss, 0, 0, plotWidth/2, plotHeight)
	drawPanel(c, acc, plotWidth/2, 0, plotWidth/2, plotHeight)
}

// drawPanel draws p in the box at (x0, y0) of size w×h.
func drawPanel(c canvas, p panel, x0, y0, w, h float64) {
	left, right := x0+panelMarginLeft, x0+w-panelMarginRight
	top, bottom := y0+panelMarginTop, y0+h-panelMarginBottom

	xLo, xHi, yLo, yHi := 0.0, math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, q := range s.pts {
			if !finite(q) {
				continue
			}
			xHi = math.Max(xHi, q.x)
			yLo, yHi = math.Min(yLo, q.y), math.Max(yHi, q.y)
		}
	}
	if !math.IsNaN(p.yMax) {
		yHi = p.yMax
	}
	if math.IsInf(xHi, -1) || xHi <= xLo { // no finite point, or only epoch 0
		xHi = xLo + 1
	}
	if math.IsInf(yLo, 1) {
		yLo, yHi = 0, 1
	}
	xTicks := niceTicks(xLo, xHi)
	yTicks := niceTicks(yLo, yHi)
	xLo, xHi = xTicks.lo, xTicks.hi
	yLo, yHi = yTicks.lo, yTicks.hi
	toPixel := func(q point) point {
		return point{left + (q.x-xLo)/(xHi-xLo)*(right-left), bottom - (q.y-yLo)/(yHi-yLo)*(bottom-top)}
	}

	for _, v := range xTicks.values() {
		x := toPixel(point{v, yLo}).x
		c.polyline([]point{{x, top}, {x, bottom}}, gridColor, 1)
		c.polyline([]point{{x, bottom}, {x, bottom + 5}}, axisColor, 1)
		c.text(point{x, bottom + 14}, xTicks.label(v), 1, alignMiddle, false)
	}
	for _, v := range yTicks.values() {
		y := toPixel(point{xLo, v}).y
		c.polyline([]point{{left, y}, {right, y}}, gridColor, 1)
		c.polyline([]point{{left - 5, y}, {left, y}}, axisColor, 1)
		c.text(point{left - 8, y}, yTicks.label(v), 1, alignEnd, false)
	}
	c.polyline([]point{{left, top}, {right, top}, {right, bottom}, {left, bottom}, {left, top}}, axisColor, 1)
	c.text(point{(left + right) / 2, y0 + panelMarginTop/2}, p.title, 2, alignMiddle, false)
	c.text(point{(left + right) / 2, bottom + 34}, "epoch", 1, alignMiddle, false)
	c.text(point{x0 + 14, (top + bottom) / 2}, p.yLabel, 1, alignMiddle, true)

	for _, s := range p.series {
		for _, run := range finiteRuns(s.pts) {
			px := make([]point, len(run))
			for i, q := range run {
				px[i] = toPixel(q)
			}
			c.polyline(px, s.color, lineWidth)
			if s.dots {
				for _, q := range px {
					c.dot(q, dotRadius, s.color)
				}
			}
		}
	}
	drawLegend(c, p, left, right, top, bottom)
}

// drawLegend draws one row per series in a box in the top-right (or bottom-right) corner of the plot area.
func drawLegend(c canvas, p panel, left, right, top, bottom float64) {
	const rowHeight, sample, pad = 16.0, 24.0, 6.0
	widest := 0.0
	for _, s := range p.series {
		widest = math.Max(widest, textWidth(s.name, 1))
	}
	w := pad + sample + pad + widest + pad
	h := pad + rowHeight*float64(len(p.series)) + pad/2
	bx, by := right-w-8, top+8
	if !p.legendTop {
		by = bottom - h - 8
	}
	c.rect(bx, by, w, h, paperColor)
	c.polyline([]point{{bx, by}, {bx + w, by}, {bx + w, by + h}, {bx, by + h}, {bx, by}}, gridColor, 1)
	for i, s := range p.series {
		y := by + pad + rowHeight*(float64(i)+0.5)
		c.polyline([]point{{bx + pad, y}, {bx + pad + sample, y}}, s.color, lineWidth)
		if s.dots {
			c.dot(point{bx + pad + sample/2, y}, dotRadius, s.color)
		}
		c.text(point{bx + pad + sample + pad, y}, s.name, 1, alignStart, false)
	}
}

// ticks are the evenly spaced round values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
type ticks struct {
	lo, hi, step float64
	decimals     int
}

// niceTicks picks about five ticks over [lo, hi] and widens the range to whole steps.
func niceTicks(lo, hi float64) ticks {
	if hi <= lo {
		lo, hi = lo-0.5, lo+0.5
	}
	raw := (hi - lo) / 5
	magnitude := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * magnitude
	for _, m := range []float64{1, 2, 5} {
		if m*magnitude >= raw {
			step = m * magnitude
			break
		}
	}
	t := ticks{lo: math.Floor(lo/step+1e-9) * step, hi: math.Ceil(hi/step-1e-9) * step, step: step}
	t.decimals = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	return t
}

func (t ticks) values() []float64 {
	var vs []float64
	for i := 0; ; i++ {
		v := t.lo + float64(i)*t.step
		if v > t.hi+t.step/1e6 {
			return vs
		}
		vs = append(vs, v)
	}
}

func (t ticks) label(v float64) string {
	s := strconv.FormatFloat(v, 'f', t.decimals, 64)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:] // a rounding residue below zero prints as 0
	}
	return s
}

func finite(q point) bool {
	return !math.IsNaN(q.x) && !math.IsInf(q.x, 0) && !math.IsNaN(q.y) && !math.IsInf(q.y, 0)
}

// finiteRuns splits a curve at its NaN and infinite points (a diverged run), which are left out.
func finiteRuns(pts []point) [][]point {
	var runs [][]point
	start := -1
	for i, q := range pts {
		switch {
		case finite(q) && start < 0:
			start = i
		case !finite(q) && start >= 0:
			runs = append(runs, pts[start:i])
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, pts[start:])
	}
	return runs
}
