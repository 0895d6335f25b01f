//go:build cgo && !purego

package ops

import (
	"os"
	"strconv"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

// With cgo available and without the purego build tag, every sgemm of this
// package (and of any other user of blas32 in the same program) runs in
// OpenBLAS through gonum's netlib cgo binding.
//
// Threads: by default OpenBLAS is set to one thread per call
// (openblas_set_num_threads(1)) and the kernels spread their work over
// GOMAXPROCS goroutines themselves: the Winograd convolution runs its 36
// products side by side, im2col tiles and Dense products are cut into
// bands. Measured on 2 cores (VGG16, see PERF.md), this beats OpenBLAS's own
// threading, whose per-call start-up dominates the many mid-sized products
// of a convolution, and it keeps all cores busy in the parts that are not
// products. When OPENBLAS_NUM_THREADS (or GOTO_NUM_THREADS or
// OMP_NUM_THREADS, which OpenBLAS also reads) is set, OpenBLAS keeps the
// thread count it read from it; if that is more than one, the kernels call
// it from one goroutine at a time instead.
func init() {
	blas32.Use(netlib.Implementation{})
	backendName = "OpenBLAS (cgo, gonum.org/v1/netlib)"
	if blasThreadsFromEnv() {
		blasThreaded = openblasThreads() > 1
	} else {
		openblasSetThreads(1)
		blasThreaded = false
	}
	if blasThreaded {
		backendName += ", " + strconv.Itoa(openblasThreads()) + " OpenBLAS threads per call"
	} else {
		backendName += ", 1 OpenBLAS thread per call, goroutines across cores"
	}
}

// blasThreadsFromEnv reports whether the user chose OpenBLAS's thread count
// through the environment.
func blasThreadsFromEnv() bool {
	for _, v := range []string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}
