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
//     cblas.h). Unless OPENBLAS_NUM_THREADS (or GOTO_NUM_THREADS or
//     OMP_NUM_THREADS) is set, OpenBLAS is told to use one thread per call
//     and the kernels share their work out among GOMAXPROCS goroutines
//     themselves (faster for convolutions' many mid-sized products, and it
//     keeps every core busy in the parts that are not products). With the
//     variable set above 1, OpenBLAS threads each call and the kernels call
//     it from one goroutine at a time.
//   - With -tags purego (or CGO_ENABLED=0) gonum's pure-Go blas32
//     implementation is used: no C toolchain or library is needed, at a
//     cost of roughly 10-20x in convolution speed. The Winograd transforms
//     then run in plain Go too (by default they are AVX2 assembly on amd64
//     CPUs that have it, package ops/internal/wgasm).
//
// Backend reports which one is in use. Note that blas32.Use is global:
// other users of blas32 in the same program get OpenBLAS too.
//
// Conv2D picks its algorithm from the parameters: a 1x1, stride-1,
// unpadded convolution is a single sgemm on the input as it is; a 3x3
// stride-1 convolution over enough channels and pixels uses Winograd's
// F(4x4, 3x3), 36 sgemms over the channels with 4x fewer multiplications
// (winograd.go); anything else is im2col in tiles of output pixels. The
// scratch space is bounded (a few to a few tens of MiB whatever the image
// size) and reused between calls. Conv2DReLU fuses Keras's relu into the
// pass that writes the output.
//
// # Numerics
//
// Everything is float32. Sums that may be long and are not matrix products
// (average pooling, softmax) and transcendental functions (sigmoid, gelu,
// ...) are computed in float64 and rounded once. Results agree with
// TensorFlow's to float32 rounding, not bit for bit: the order of the
// additions inside a matrix product differs between BLAS libraries, and
// the Winograd transforms add a rounding error of up to about 1e-5 of the
// largest output value (TestWinogradVGG16Layers).
package ops
