//go:build amd64 && !purego

package wgasm

// Available reports whether the CPU and the OS support AVX2 and FMA.
var Available = hasAVX2FMA()

func hasAVX2FMA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// The OS must save the XMM and YMM registers (XCR0 bits 1 and 2).
	if xgetbv0()&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// cpuid executes the CPUID instruction for leaf eaxArg, subleaf ecxArg.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns the low 32 bits of XCR0 (valid only when OSXSAVE is set).
func xgetbv0() uint32

// Input writes, for n8 groups of 8 lanes, the 36 values of Bᵀ d B to
// dst[ξ*dstStride + lane] for the 6×6 patch d whose value (i, j) is at
// src[i*srcRow + j*srcPix + lane].
//
//go:noescape
func Input(dst, src *float32, srcRow, srcPix, dstStride, n8 int)

// Output writes, for n8 groups of 8 lanes, the 4×4 values of Aᵀ m A plus
// bias[lane] (then max(·, 0) when relu is 1) to dst[i*dstRow + j*dstPix +
// lane] for the 6×6 tile m whose value ξ is at src[ξ*srcStride + lane].
//
//go:noescape
func Output(dst, src, bias *float32, srcStride, dstRow, dstPix, n8, relu int)

// Kernel writes, for n8 groups of 8 lanes, the 36 values of G g Gᵀ to
// dst[ξ*dstStride + lane] for the 3×3 kernel g whose tap (ky, kx) is at
// src[(ky*3 + kx)*srcTap + lane].
//
//go:noescape
func Kernel(dst, src *float32, srcTap, dstStride, n8 int)
