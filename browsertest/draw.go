package browsertest

import (
	"context"
	"fmt"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// This file holds what the page tests share for drawing on a canvas: the try-it page's test (page_test.go)
// and the WebAssembly demo's (wasm_test.go).

// Stroke is one pen path across an element: points as fractions (x, y) of its width and height.
type Stroke [][2]float64

// HandDigit is a digit as a person draws it with a mouse, in the middle of the canvas with MNIST's
// margins around it.
type HandDigit struct {
	Class   int
	Strokes []Stroke
}

// HandDigits are the digits the page tests draw: a 1 (one stroke down) and a 7 (a bar, then the
// diagonal).
var HandDigits = []HandDigit{
	{1, []Stroke{{{0.52, 0.18}, {0.50, 0.50}, {0.48, 0.84}}}},
	{7, []Stroke{{{0.28, 0.22}, {0.50, 0.21}, {0.72, 0.22}, {0.60, 0.48}, {0.46, 0.84}}}},
}

// DrawStrokes drags the mouse along each stroke with the left button down over the element sel matches,
// in small steps as a real pointer reports them.
func DrawStrokes(ctx context.Context, sel string, strokes ...Stroke) error {
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(
		`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, sel)))
	if err != nil {
		return fmt.Errorf("locating %s: %w", sel, err)
	}
	if len(box) != 4 {
		return fmt.Errorf("locating %s: got %v, want its left, top, width and height", sel, box)
	}
	page := func(p [2]float64) (float64, float64) { return box[0] + p[0]*box[2], box[1] + p[1]*box[3] }
	held := func(p *input.DispatchMouseEventParams) {
		p.Button = input.MouseButtonLeft
		p.Buttons = 1 // the left button, held during the moves
	}
	const stepsPerSegment = 8
	var actions []chromedp.Action[chromedp.Void]
	for _, s := range strokes {
		if len(s) == 0 {
			continue
		}
		x, y := page(s[0])
		actions = append(actions, chromedp.MouseEvent(chromedp.MousePressed, x, y, held, chromedp.ClickCount(1)))
		for i := 1; i < len(s); i++ {
			from, to := s[i-1], s[i]
			for k := 1; k <= stepsPerSegment; k++ {
				f := float64(k) / stepsPerSegment
				x, y := page([2]float64{from[0] + f*(to[0]-from[0]), from[1] + f*(to[1]-from[1])})
				actions = append(actions, chromedp.MouseEvent(chromedp.MouseMoved, x, y, held))
			}
		}
		x, y = page(s[len(s)-1])
		actions = append(actions, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	}
	return chromedp.Do(ctx, actions...)
}
