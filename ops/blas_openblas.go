//go:build cgo && !purego

package ops

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

// With cgo available and without the purego build tag, every sgemm of this
// package (and of any other user of blas32 in the same program) runs in
// OpenBLAS through gonum's netlib cgo binding. OpenBLAS threads each call
// itself, so the kernels here call it from one goroutine at a time.
func init() {
	blas32.Use(netlib.Implementation{})
	backendName = "OpenBLAS (cgo, gonum.org/v1/netlib)"
	blasThreaded = true
}
