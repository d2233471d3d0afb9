// Package recurrent implements ONNX's recurrent layers RNN, GRU and LSTM, forward, reverse and
// bidirectional, in both layouts. Importing the package registers them (see ops.Register) for every opset
// version Operators.md lists up to ops.MaxOpset.
//
// The three share one loop over time steps (rnn.go): the input projection of every step is one GEMM up
// front, and each step's recurrent product is one GEMM over the batch (ops/internal/gemm), followed by the
// biases and the gates' activations. float32 runs on the packed GEMM, float64 on the reference loops, and
// float16 and bfloat16 widen to float32 in scratch memory. A long sequence polls the run's cancellation
// between steps. Run allocates nothing (alloc_test.go).
package recurrent
