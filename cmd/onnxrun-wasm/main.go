//go:build js && wasm

// Command onnxrun-wasm is onnxrun compiled to WebAssembly for the browser demo (docs/wasm.md): `make
// wasm-demo` builds it with GOOS=js GOARCH=wasm beside web/index.html, Go's wasm_exec.js and the shipped
// LeNet, and any static file server serves the folder. All inference runs here, in the page; the server
// only hands out files.
//
// It sets globalThis.onnxrun to an object of functions (each returns an object with an "error" string
// instead of throwing on bad input):
//
//	load(model: Uint8Array)                                  compiles the model's bytes
//	classifyCanvas(rgba, width, height, darkOnLight: bool)    a drawn digit (getImageData's bytes)
//	classifyNPY(npy: Uint8Array)                              a [1,1,28,28] float32 .npy
//	time(rounds, perRound)                                    times batch-1 runs (internal/wasmdemo.TimeRuns)
//
// and then calls globalThis.onnxrunReady() when the page defined it.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/onnxrun/onnxrun/internal/wasmdemo"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// timingWarmup runs are made before the timed ones: the first runs plan the session's memory and prepack
// the weights.
const timingWarmup = 20

// demo holds the model the page loaded; the browser calls it from its one thread.
type demo struct {
	classifier *wasmdemo.Classifier
	// lastInput is what time() runs: the last input classified, else zeros.
	lastInput *ops.Tensor
}

func main() {
	d := &demo{}
	api := js.Global().Get("Object").New()
	api.Set("load", js.FuncOf(d.call(d.load)))
	api.Set("classifyCanvas", js.FuncOf(d.call(d.classifyCanvas)))
	api.Set("classifyNPY", js.FuncOf(d.call(d.classifyNPY)))
	api.Set("time", js.FuncOf(d.call(d.time)))
	js.Global().Set("onnxrun", api)
	if ready := js.Global().Get("onnxrunReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // keep the functions alive for the page's lifetime
}

// call wraps a function so that its error becomes {error: message} for the page.
func (d *demo) call(f func(args []js.Value) (map[string]any, error)) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) any {
		out, err := f(args)
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		return out
	}
}

// argError reports a call from the page with the wrong arguments.
func argError(fn, want string, args []js.Value) error {
	return fmt.Errorf("onnxrun.%s(%s): called with %d arguments of the wrong kind", fn, want, len(args))
}

// bytesArg copies a Uint8Array or Uint8ClampedArray argument into Go.
func bytesArg(v js.Value) ([]byte, bool) {
	if v.Type() != js.TypeObject {
		return nil, false
	}
	if !v.InstanceOf(js.Global().Get("Uint8Array")) && !v.InstanceOf(js.Global().Get("Uint8ClampedArray")) {
		return nil, false
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, true
}

func (d *demo) load(args []js.Value) (map[string]any, error) {
	model, ok := []byte(nil), len(args) == 1
	if ok {
		model, ok = bytesArg(args[0])
	}
	if !ok {
		return nil, argError("load", "model: Uint8Array", args)
	}
	c, err := wasmdemo.NewClassifier(model)
	if err != nil {
		return nil, err
	}
	if d.classifier != nil {
		d.classifier.Close()
	}
	d.classifier, d.lastInput = c, nil
	return map[string]any{"bytes": len(model)}, nil
}

func (d *demo) classifyCanvas(args []js.Value) (map[string]any, error) {
	const want = "rgba: Uint8ClampedArray, width, height: number, darkOnLight: boolean"
	if len(args) != 4 || args[1].Type() != js.TypeNumber || args[2].Type() != js.TypeNumber || args[3].Type() != js.TypeBoolean {
		return nil, argError("classifyCanvas", want, args)
	}
	rgba, ok := bytesArg(args[0])
	if !ok {
		return nil, argError("classifyCanvas", want, args)
	}
	x, err := wasmdemo.DigitInput(wasmdemo.Canvas{Width: args[1].Int(), Height: args[2].Int(), RGBA: rgba, DarkOnLight: args[3].Bool()})
	if err != nil {
		return nil, err
	}
	return d.classify(x)
}

func (d *demo) classifyNPY(args []js.Value) (map[string]any, error) {
	npy, ok := []byte(nil), len(args) == 1
	if ok {
		npy, ok = bytesArg(args[0])
	}
	if !ok {
		return nil, argError("classifyNPY", "npy: Uint8Array", args)
	}
	x, err := tensorio.ReadNPY(bytes.NewReader(npy))
	if err != nil {
		return nil, err
	}
	return d.classify(x)
}

var errNotLoaded = errors.New("onnxrun: no model loaded: call onnxrun.load(bytes) first")

func (d *demo) classify(x *ops.Tensor) (map[string]any, error) {
	if d.classifier == nil {
		return nil, errNotLoaded
	}
	p, err := d.classifier.Classify(x)
	if err != nil {
		return nil, err
	}
	d.lastInput = x
	logits := make([]any, len(p.Logits))
	for i, l := range p.Logits {
		logits[i] = float64(l)
	}
	probs := make([]any, len(p.Probabilities))
	for i, q := range p.Probabilities {
		probs[i] = q
	}
	return map[string]any{"class": p.Class, "logits": logits, "probabilities": probs}, nil
}

func (d *demo) time(args []js.Value) (map[string]any, error) {
	if len(args) != 2 || args[0].Type() != js.TypeNumber || args[1].Type() != js.TypeNumber {
		return nil, argError("time", "rounds, perRound: number", args)
	}
	if d.classifier == nil {
		return nil, errNotLoaded
	}
	x := d.lastInput
	if x == nil {
		x = ops.New(ops.Float32, ops.Shape{1, 1, 28, 28}) // LeNet's input, zeros
	}
	tm, err := wasmdemo.TimeRuns(func() error { return d.classifier.Run(x) }, timingWarmup, args[0].Int(), args[1].Int())
	if err != nil {
		return nil, err
	}
	return map[string]any{"meanMS": tm.MeanMS, "medianMS": tm.MedianMS, "runs": tm.Runs, "rounds": tm.Rounds, "perRound": tm.PerRound}, nil
}
