package wasmdemo

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Classifier runs one image classifier, such as models/lenet/lenet.onnx, on one thread (a browser gives
// a WebAssembly module one). It is not safe for concurrent use: it owns one session.
type Classifier struct {
	plan *runtime.Plan
	sess *runtime.Session
}

// NewClassifier decodes and compiles the model file's bytes.
func NewClassifier(model []byte) (*Classifier, error) {
	m, err := onnx.Decode(model)
	if err != nil {
		return nil, err
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	return &Classifier{plan: plan, sess: plan.NewSession()}, nil
}

// Prediction is a classifier's answer for one input: the most probable class, the raw outputs and their
// softmax.
type Prediction struct {
	Class         int
	Logits        []float32
	Probabilities []float64
}

// Classify runs the model on x (batch 1) and returns its prediction.
func (c *Classifier) Classify(x *ops.Tensor) (Prediction, error) {
	outs, err := c.sess.Run(context.Background(), []*ops.Tensor{x})
	if err != nil {
		return Prediction{}, err
	}
	if len(outs) == 0 || outs[0].DType() != ops.Float32 || outs[0].Len() == 0 {
		return Prediction{}, fmt.Errorf("wasmdemo: the model's first output is not a float32 vector of class scores")
	}
	logits := append([]float32(nil), outs[0].Float32s()...) // the session reuses its output buffer
	return Prediction{Class: argmax(logits), Logits: logits, Probabilities: softmax(logits)}, nil
}

// Run runs the model on x and discards the result, for timing.
func (c *Classifier) Run(x *ops.Tensor) error {
	_, err := c.sess.Run(context.Background(), []*ops.Tensor{x})
	return err
}

// Close releases the session.
func (c *Classifier) Close() { c.sess.Close() }

// argmax is the index of the first largest value; v is not empty.
func argmax(v []float32) int { return slices.Index(v, slices.Max(v)) }

// softmax in float64, shifted by the largest logit so that exp never overflows.
func softmax(logits []float32) []float64 {
	top := float64(logits[argmax(logits)])
	p := make([]float64, len(logits))
	sum := 0.0
	for i, l := range logits {
		p[i] = math.Exp(float64(l) - top)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
