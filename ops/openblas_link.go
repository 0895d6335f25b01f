//go:build cgo && !purego

package ops

// This file tells the linker where the CBLAS symbols used by
// gonum.org/v1/netlib/blas/netlib live, so that `go build` and `go test`
// work without CGO_LDFLAGS (Debian/Ubuntu: apt-get install libopenblas-dev),
// and reaches OpenBLAS's thread-count controls, which are OpenBLAS
// extensions (declared here, not in netlib's cblas.h).

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
*/
import "C"

// openblasSetThreads sets the number of threads OpenBLAS uses for each call.
func openblasSetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// openblasThreads returns the number of threads OpenBLAS uses for each call.
func openblasThreads() int { return int(C.openblas_get_num_threads()) }
