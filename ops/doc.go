// Package ops holds the numeric kernels of the project: plain functions over
// []float32 slices and shape integers, in the spirit of llm.c. Every image
// tensor is NHWC (Keras's channels_last); see Tensor for the offset formula.
package ops
