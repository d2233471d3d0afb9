package models

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	trainColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	valColor   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	stepColor  = color.RGBA{R: 150, G: 190, B: 220, A: 255}
)

// PlotHistory draws the loss (left) and accuracy (right) curves of a run to a PNG file: per epoch for the
// training and validation data, plus the training loss and accuracy averaged over every few steps.
func PlotHistory(h *History, title, path string) error {
	if len(h.Epochs) == 0 {
		return fmt.Errorf("models: no epoch to plot")
	}
	loss := newPlot(title+" — loss", "cross-entropy")
	acc := newPlot(title+" — accuracy", "accuracy")
	var stepLoss, stepAcc, trainLoss, trainAcc, valLoss, valAcc plotter.XYs
	for _, s := range h.Steps {
		stepLoss = append(stepLoss, plotter.XY{X: s.Epoch, Y: s.Loss})
		stepAcc = append(stepAcc, plotter.XY{X: s.Epoch, Y: s.Accuracy})
	}
	for _, e := range h.Epochs {
		x := float64(e.Epoch)
		trainLoss = append(trainLoss, plotter.XY{X: x, Y: e.TrainLoss})
		trainAcc = append(trainAcc, plotter.XY{X: x, Y: e.TrainAccuracy})
		if !math.IsNaN(e.ValLoss) {
			valLoss = append(valLoss, plotter.XY{X: x, Y: e.ValLoss})
			valAcc = append(valAcc, plotter.XY{X: x, Y: e.ValAccuracy})
		}
	}
	for _, c := range []struct {
		p           *plot.Plot
		steps, a, b plotter.XYs
	}{{loss, stepLoss, trainLoss, valLoss}, {acc, stepAcc, trainAcc, valAcc}} {
		if err := addLine(c.p, c.steps, "training (every few steps)", stepColor, false); err != nil {
			return err
		}
		if err := addLine(c.p, c.a, "training (epoch mean)", trainColor, true); err != nil {
			return err
		}
		if err := addLine(c.p, c.b, "validation", valColor, true); err != nil {
			return err
		}
	}
	acc.Legend.Top = false
	acc.Y.Max = 1
	img := vgimg.New(vg.Points(960), vg.Points(400))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(20), PadY: vg.Points(10), PadTop: vg.Points(10),
		PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newPlot(title, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.X.Min = 0
	return p
}

func addLine(p *plot.Plot, xys plotter.XYs, name string, c color.Color, points bool) error {
	if len(xys) == 0 {
		return nil
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	line.Color = c
	line.Width = vg.Points(1.5)
	p.Add(line)
	if !points {
		p.Legend.Add(name, line)
		return nil
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	sc.Color = c
	sc.Shape = draw.CircleGlyph{}
	p.Add(sc)
	p.Legend.Add(name, line, sc)
	return nil
}
