//go:build cgo && !purego

package ops

// This file only tells the linker where the CBLAS symbols used by
// gonum.org/v1/netlib/blas/netlib live, so that `go build` and `go test`
// work without CGO_LDFLAGS. Debian/Ubuntu: apt-get install libopenblas-dev.

// #cgo LDFLAGS: -lopenblas
import "C"
