// Package ops holds the numeric kernels of the project: plain functions over
// []float32 slices and shape integers, in the spirit of llm.c. Every image
// tensor is NHWC (Keras's channels_last); see Tensor for the offset formula.
//
// # Calling convention
//
// A kernel writes into an output slice the caller allocated, reads inputs
// it never modifies (activations work in place), and takes the shapes as
// integers or as a ConvParams/PoolParams. Each function's doc comment gives
// the shapes of its slices, e.g. for Conv2D
//
//	in (N, H, W, C), kernel (KH, KW, C, F), bias (F) or nil -> out (N, OH, OW, F)
//
// with the weight layouts Keras stores (Conv2D kernel (KH, KW, C, F), Dense
// kernel (in, out)), so weights read from a Keras file are used as they are.
//
// The kernels return no errors: a slice whose length disagrees with the
// shapes is a bug in the caller, and they panic with a message naming the
// argument and the expected shape. Code that turns user input into shapes
// should build parameters with NewConvParams, NewConvTransposeParams or
// NewPoolParams (or call Validate) and get an error instead.
//
// # Padding
//
// ConvOutput reproduces Keras/TensorFlow's "valid" and "same" arithmetic:
// "same" gives ceil(n/s) outputs and, when the total padding is odd, puts
// the extra row or column at the bottom/right. Max pooling never selects a
// padded cell; average pooling divides by the number of real cells.
//
// # Compute backend
//
// Convolutions (im2col), transposed convolutions and Dense layers are
// matrix products, done by sgemm through gonum's blas32 interface:
//
//   - By default (cgo enabled, no build tags) the package links OpenBLAS
//     through gonum.org/v1/netlib/blas/netlib and installs it with
//     blas32.Use at init. The cgo directive "-lopenblas" lives in this
//     package, so no CGO_LDFLAGS are needed; the system needs a C compiler
//     and libopenblas.so (Debian: libopenblas-dev; netlib brings its own
//     cblas.h). OpenBLAS threads each product over all cores
//     (OPENBLAS_NUM_THREADS limits it).
//   - With -tags purego (or CGO_ENABLED=0) gonum's pure-Go blas32
//     implementation is used: no C toolchain or library is needed, at a
//     cost of roughly 10-20x in convolution speed. Conv2D then shares its
//     tiles out among GOMAXPROCS goroutines.
//
// Backend reports which one is in use. Note that blas32.Use is global:
// other users of blas32 in the same program get OpenBLAS too.
//
// Conv2D picks its algorithm from the parameters: a 1x1, stride-1,
// unpadded convolution is a single sgemm on the input as it is; anything
// else is im2col in tiles of output pixels (the unfolded matrix is bounded
// to a few MiB whatever the image size) with one sgemm per tile.
//
// # Numerics
//
// Everything is float32. Sums that may be long and are not matrix products
// (average pooling, softmax) and transcendental functions (sigmoid, gelu,
// ...) are computed in float64 and rounded once. Results agree with
// TensorFlow's to float32 rounding, not bit for bit: the order of the
// additions inside a matrix product differs between BLAS libraries.
package ops
