package runtime

// Every test of the package, and every fuzzing run, checks the passes' rewriter index after each pass.
func init() { verifyRewrites = true }

// VerifyRewrites lets benchmarks turn that check off, to time Compile as users get it.
var VerifyRewrites = &verifyRewrites
