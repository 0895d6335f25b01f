// Package wgasm holds the AVX2+FMA assembly kernels of the ops package's
// Winograd F(4×4, 3×3) convolution: the input, output and kernel
// transforms, each on groups of 8 lanes. The formulas, and plain-Go
// versions that give the same results, are in ops/winograd.go; ops tests
// both against naive convolutions.
//
// The kernels live in their own package because Go does not allow Go
// assembly in a package that uses cgo, as ops does for OpenBLAS.
//
// All strides are in float32 values and the pointers must address enough
// memory for every value read or written: the callers in ops check the
// bounds before the call. Available reports whether the kernels can run;
// calling them when it is false panics.
package wgasm
