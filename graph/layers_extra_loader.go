package graph

import "fmt"

// Helpers for model loaders (the keras package), kept apart from the
// functional API proper.

// MarkSequential turns a model whose graph is a chain (one input, one
// output, every layer called once on the previous layer's output) into a
// Sequential model, as Sequential does: its class becomes "Sequential",
// Layers excludes the InputLayer and summary omits its row. Loaders use it
// to rebuild Keras Sequential models with their own InputLayer name.
func MarkSequential(m *Model) error {
	if len(m.inputs) != 1 || len(m.outputs) != 1 {
		return fmt.Errorf("model %q has %d inputs and %d outputs; a Sequential model has one of each", m.name, len(m.inputs), len(m.outputs))
	}
	for n := m.outputs[0]; n != m.inputs[0]; n = n.Inputs[0] {
		if len(n.Inputs) != 1 {
			return fmt.Errorf("model %q is not a chain: layer %q has %d inputs", m.name, n.Layer.Base().name, len(n.Inputs))
		}
	}
	if len(m.order) != len(m.layers) {
		return fmt.Errorf("model %q is not a chain: a layer is called more than once", m.name)
	}
	m.class = "Sequential"
	m.sequential = true
	return nil
}
