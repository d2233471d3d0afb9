package runtime

// Every test of the package, and every fuzzing run, checks the passes' rewriter index after each pass.
func init() { verifyRewrites = true }

// VerifyRewrites lets benchmarks turn that check off, to time Compile as users get it.
var VerifyRewrites = &verifyRewrites

// ConcatBlocks lets tests plan Concats as copies, to compare with the planner's in-place blocks.
var ConcatBlocks = &concatBlocks

// BlockViews lets tests plan Slice and Split as copies, to compare with the planner's views.
var BlockViews = &blockViews
