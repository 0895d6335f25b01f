//go:build !amd64 || purego

package wgasm

// Available is false: this build has no assembly kernels.
var Available = false

// Input is not available in this build.
func Input(dst, src *float32, srcRow, srcPix, dstStride, n8 int) { panic("wgasm: no kernels") }

// Output is not available in this build.
func Output(dst, src, bias *float32, srcStride, dstRow, dstPix, n8, relu int) {
	panic("wgasm: no kernels")
}

// Kernel is not available in this build.
func Kernel(dst, src *float32, srcTap, dstStride, n8 int) { panic("wgasm: no kernels") }
