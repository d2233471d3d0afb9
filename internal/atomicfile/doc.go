// Package atomicfile writes files so that a reader, or a crash, never sees a half-written one: every model
// file onnxrun writes (train's export and curves, quantize's output, Model.Save, the trainer's checkpoints)
// goes through WriteFile.
//
// # Protocol
//
// WriteFile creates a temporary file in the destination's folder (a rename is atomic only within one file
// system), fills it, fsyncs it, gives it its permissions, renames it over the destination and fsyncs the
// folder, so that after a power cut the name points at either the old content or the whole new one. If
// any step fails the temporary file is removed and the destination is left as it was. A process killed
// mid-write cannot remove its temporary file: RemoveTemps deletes such leftovers.
//
// It imports nothing of this module, so that the leaf packages (onnx) may use it.
package atomicfile
