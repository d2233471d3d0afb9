// Package signal implements ONNX's signal-processing operators: DFT and STFT (dft.go), the window
// generators HannWindow, HammingWindow and BlackmanWindow, and MelWeightMatrix (window.go). Importing the
// package registers them (see ops.Register) for every opset version Operators.md lists up to ops.MaxOpset.
//
// DFT and STFT transform in float64 with an FFT planned once at Prepare (fft.go): gonum's dsp/fourier
// (FFTPACK) for lengths made of small primes, Bluestein's algorithm for lengths with a large prime factor,
// so every length costs O(N log N). The window generators and MelWeightMatrix compute their values in
// float64 from constant inputs and convert to output_datatype. Run allocates nothing (alloc_test.go).
package signal
