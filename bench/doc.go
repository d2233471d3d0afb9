// Package bench measures onnxrun models the way `onnxrun bench` and the ONNX Runtime comparison
// (bench/ortcompare) report them: latency percentiles, throughput, GFLOP/s, peak memory and the time each
// node takes.
//
// # Layout
//
//   - stats.go: latency samples to a Summary (min, mean, p50/p90/p99, max) and throughput.
//   - measure.go: the timing loop (warm-up, then runs until both a count and a time are reached).
//   - flops.go: multiply-adds per run, counted per operator from the shapes of the compiled plan
//     (Conv, ConvTranspose, Gemm, MatMul and their fused forms), falling back to what the kernel
//     reports through ops.Coster for anything else. GFLOP/s counts 2 floating-point operations per
//     multiply-add, the convention ONNX Runtime's and vendors' figures use.
//   - memory.go: the process's peak resident memory (/proc/self/status VmHWM) and the Go heap.
//   - inputs.go: model inputs at a chosen batch size, filled with seeded random values.
//   - run.go: Run, one whole benchmark of a model file, and the Result it returns.
//   - report.go: the text tables: the result, and the profile per node and per op type.
//
// # Conventions
//
// Latency is wall time of Session.Run, with the inputs already in memory; percentiles interpolate
// linearly between the nearest samples, like numpy's default. Throughput is samples (batch items) per
// second at the mean latency. The per-node profile comes from separate runs through
// runtime.Session.RunProfiled, after the timed runs, so profiling never colours the latency figures.
package bench
