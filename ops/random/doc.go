// Package random implements ONNX's random generators Bernoulli (bernoulli.go) and RandomUniformLike
// (uniform.go). Importing the package registers them (see ops.Register) for every opset version
// Operators.md lists up to ops.MaxOpset.
//
// # Streams and seeds
//
// Draws come from the Mersenne Twister of ops/internal/mt19937 (numpy's legacy generator) in row-major
// order, as uniforms u in [0, 1) of 53 bits. A node with a seed attribute reseeds it with that seed at
// every Run, so a seeded node gives the same outputs each time (as ONNX's reference implementation, which
// builds a fresh RandomState(seed) per call); without one, each Run seeds from math/rand/v2. The seed is
// a float in ONNX: it is truncated to an integer and taken modulo 2^32, and NaN means "no seed" as in the
// reference implementation. The outputs are not numpy's value for value (ONNX's node tests draw their
// references from numpy's global stream, not the node's seed), which is why the conformance suite checks
// Bernoulli with a statistical rule (conformance/overrides.txt).
//
// The ops are marked Nondeterministic so that constant folding never freezes their outputs. Run allocates
// nothing: the generator's state lives on the stack.
package random
