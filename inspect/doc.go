// Package inspect describes an ONNX model for people: what `onnxrun inspect` and `onnxrun summary` print.
//
// # What it gives
//
// Describe reads a decoded model into an Info: what Netron's side panel shows (IR version, producer,
// opset imports, metadata, inputs and outputs with their dtypes and shapes, symbolic dimensions by name),
// plus an operator histogram, the initializers' count and size, and the operators onnxrun has no kernel
// for. Info prints as aligned text (WriteText) or, through encoding/json, for scripts. WriteDot draws the
// graph for Graphviz.
//
// Summarize groups the nodes into the layers a Keras user would name and counts their parameters, the
// way model.summary() does: an activation that follows a convolution or dense layer is part of it
// (Conv+Relu), a bias Add after a MatMul makes it a dense layer, the Pad that PyTorch writes before a
// pooling belongs to the pooling, a Transpose before a flatten belongs to the flatten, and the Shape →
// Gather → Concat chains exporters use to compute a flatten's target shape are not layers at all. Output
// shapes come from the runtime's shape inference, with the batch (any dimension that follows a symbolic
// input dimension) shown as None. Parameters are the initializers and Constant tensors layers read as
// weights; shape constants, axes and scalar hyper-parameters (the 0.5 of a GELU) are not, and
// BatchNormalization's running mean and variance count as non-trainable, as in Keras.
//
// # Layout
//
// ONNX holds values of rank 3 or more N,C,spatial.... Keras prints them channels-last, so Summarize moves
// the channel axis of every output shape of rank 3 or more to the end unless SummaryOptions.ChannelsFirst
// is set. The rule is the same for every row, whatever operator made the value, so that one table never
// shows neighbouring rows in two layouts; shapes of rank 2 or less print as the model holds them.
//
// # Errors
//
// Describe and WriteDot never fail on a decoded model: what they cannot determine (a shape the runtime
// cannot infer, an operator with no kernel) is shown as unknown. Summarize fails only when the model has
// no graph.
package inspect
