package runtime

// OptInKernels maps the default-domain op types whose kernels the runtime does not link to the package
// that registers them. ImageDecoder brings image codecs, which a program that only runs models should not
// carry (internal/layering checks the runtime links none); a program that runs models with it imports the
// package for its init, as cmd/onnxrun and the conformance suite do:
//
//	import _ "github.com/onnxrun/onnxrun/ops/imagecodec"
//
// Compile names the package in its error for a node whose kernel is missing for this reason.
var OptInKernels = map[string]string{
	"ImageDecoder": "github.com/onnxrun/onnxrun/ops/imagecodec",
}
