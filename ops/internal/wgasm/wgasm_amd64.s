//go:build amd64 && !purego

#include "textflag.h"
#include "funcdata.h"

// AVX2+FMA kernels of the Winograd F(4×4, 3×3) transforms (see
// ops/winograd.go for the formulas and the plain-Go versions they must agree
// with). Each works on 8 lanes (channels or filters) per iteration: a value
// of a tile is one YMM register. A 2-D transform is done in two passes, the
// 1-D transform down the columns into a scratch tile on the stack, then
// along its rows. Strides come in float32s and are turned into bytes.
// Go operand order: VSUBPS a, b, c is c = b - a; VFMADD231PS a, b, c is
// c = b*a + c; VFNMADD231PS a, b, c is c = c - b*a; VFMADD213PS a, b, c is
// c = b*c + a.

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() uint32
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, ret+0(FP)
	RET

// BT6: Bᵀ d for d0..d5 in Y0..Y5, with Y12 = 4 and Y13 = 2.
// Result w0..w5 in Y7, Y10, Y8, Y11, Y6, Y5.
#define BT6 \
	VSUBPS       Y2, Y4, Y6  \ // t = d4 - d2
	VSUBPS       Y2, Y0, Y7  \ // d0 - d2
	VFMADD213PS  Y6, Y12, Y7 \ // w0 = 4(d0-d2) + t
	VMOVAPS      Y4, Y8      \
	VFNMADD231PS Y12, Y2, Y8 \ // a = d4 - 4d2
	VMOVAPS      Y3, Y9      \
	VFNMADD231PS Y12, Y1, Y9 \ // b = d3 - 4d1
	VADDPS       Y9, Y8, Y10 \ // w1 = a + b
	VSUBPS       Y9, Y8, Y8  \ // w2 = a - b
	VSUBPS       Y1, Y3, Y9  \ // e = d3 - d1
	VMOVAPS      Y6, Y11     \
	VFMADD231PS  Y13, Y9, Y11 \ // w3 = t + 2e
	VFNMADD231PS Y13, Y9, Y6 \ // w4 = t - 2e
	VSUBPS       Y3, Y5, Y5  \ // d5 - d3
	VFNMADD231PS Y12, Y9, Y5   // w5 = (d5-d3) - 4e

// IN_COL transforms the patch column at BX (rows R8 bytes apart, R11 =
// 3·R8, R12 = 5·R8) into column off/32 of the 6×6 scratch tile, then moves
// BX to the next column.
#define IN_COL(off) \
	VMOVUPS (BX), Y0          \
	VMOVUPS (BX)(R8*1), Y1    \
	VMOVUPS (BX)(R8*2), Y2    \
	VMOVUPS (BX)(R11*1), Y3   \
	VMOVUPS (BX)(R8*4), Y4    \
	VMOVUPS (BX)(R12*1), Y5   \
	BT6                       \
	VMOVUPS Y7, (off)(SP)     \
	VMOVUPS Y10, (off+192)(SP) \
	VMOVUPS Y8, (off+384)(SP) \
	VMOVUPS Y11, (off+576)(SP) \
	VMOVUPS Y6, (off+768)(SP) \
	VMOVUPS Y5, (off+960)(SP) \
	ADDQ    R9, BX

// IN_ROW transforms the scratch row at off and stores its 6 values at DX,
// DX+R10, ..., leaving DX after the last.
#define IN_ROW(off) \
	VMOVUPS (off)(SP), Y0     \
	VMOVUPS (off+32)(SP), Y1  \
	VMOVUPS (off+64)(SP), Y2  \
	VMOVUPS (off+96)(SP), Y3  \
	VMOVUPS (off+128)(SP), Y4 \
	VMOVUPS (off+160)(SP), Y5 \
	BT6                       \
	VMOVUPS Y7, (DX)          \
	ADDQ    R10, DX           \
	VMOVUPS Y10, (DX)         \
	ADDQ    R10, DX           \
	VMOVUPS Y8, (DX)          \
	ADDQ    R10, DX           \
	VMOVUPS Y11, (DX)         \
	ADDQ    R10, DX           \
	VMOVUPS Y6, (DX)          \
	ADDQ    R10, DX           \
	VMOVUPS Y5, (DX)          \
	ADDQ    R10, DX

// func Input(dst, src *float32, srcRow, srcPix, dstStride, n8 int)
TEXT ·Input(SB), 0, $1152-48
	NO_LOCAL_POINTERS
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcRow+16(FP), R8
	SHLQ $2, R8
	MOVQ srcPix+24(FP), R9
	SHLQ $2, R9
	MOVQ dstStride+32(FP), R10
	SHLQ $2, R10
	MOVQ n8+40(FP), CX
	LEAQ (R8)(R8*2), R11
	LEAQ (R8)(R8*4), R12
	MOVL $0x40800000, AX // 4.0
	MOVQ AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x40000000, AX // 2.0
	MOVQ AX, X13
	VBROADCASTSS X13, Y13

inputLoop:
	MOVQ SI, BX
	IN_COL(0)
	IN_COL(32)
	IN_COL(64)
	IN_COL(96)
	IN_COL(128)
	IN_COL(160)
	MOVQ DI, DX
	IN_ROW(0)
	IN_ROW(192)
	IN_ROW(384)
	IN_ROW(576)
	IN_ROW(768)
	IN_ROW(960)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  inputLoop
	VZEROUPPER
	RET

// AT6: Aᵀ m for m0..m5 in Y0..Y5, with Y12 = 4, Y13 = 2, Y14 = 8.
// Result y0..y3 in Y0, Y1, Y6, Y7.
#define AT6 \
	VADDPS      Y2, Y1, Y6  \ // s1 = m1 + m2
	VSUBPS      Y2, Y1, Y7  \ // d1 = m1 - m2
	VADDPS      Y4, Y3, Y8  \ // s2 = m3 + m4
	VSUBPS      Y4, Y3, Y9  \ // d2 = m3 - m4
	VADDPS      Y6, Y0, Y0  \
	VADDPS      Y8, Y0, Y0  \ // y0 = m0 + s1 + s2
	VMOVAPS     Y7, Y1      \
	VFMADD231PS Y13, Y9, Y1 \ // y1 = d1 + 2 d2
	VFMADD231PS Y12, Y8, Y6 \ // y2 = s1 + 4 s2
	VADDPS      Y5, Y7, Y7  \
	VFMADD231PS Y14, Y9, Y7   // y3 = d1 + m5 + 8 d2

// OUT_COL transforms the column of products at BX (rows R11 = 6·stride
// apart, R12 = 18·stride, AX = 30·stride) into column off/32 of the 4×6
// scratch tile, then moves BX to the next column (R8 = stride).
#define OUT_COL(off) \
	VMOVUPS (BX), Y0          \
	VMOVUPS (BX)(R11*1), Y1   \
	VMOVUPS (BX)(R11*2), Y2   \
	VMOVUPS (BX)(R12*1), Y3   \
	VMOVUPS (BX)(R11*4), Y4   \
	VMOVUPS (BX)(AX*1), Y5    \
	AT6                       \
	VMOVUPS Y0, (off)(SP)     \
	VMOVUPS Y1, (off+192)(SP) \
	VMOVUPS Y6, (off+384)(SP) \
	VMOVUPS Y7, (off+576)(SP) \
	ADDQ    R8, BX

// OUT_ROW transforms the scratch row at off into 4 output pixels, adds the
// bias (Y15), applies max(Y10, ·) and stores them at DX, DX+R10, ...; then
// moves DX down one output row (R9).
#define OUT_ROW(off) \
	VMOVUPS (off)(SP), Y0     \
	VMOVUPS (off+32)(SP), Y1  \
	VMOVUPS (off+64)(SP), Y2  \
	VMOVUPS (off+96)(SP), Y3  \
	VMOVUPS (off+128)(SP), Y4 \
	VMOVUPS (off+160)(SP), Y5 \
	AT6                       \
	VADDPS  Y15, Y0, Y0       \
	VMAXPS  Y0, Y10, Y0       \
	VADDPS  Y15, Y1, Y1       \
	VMAXPS  Y1, Y10, Y1       \
	VADDPS  Y15, Y6, Y6       \
	VMAXPS  Y6, Y10, Y6       \
	VADDPS  Y15, Y7, Y7       \
	VMAXPS  Y7, Y10, Y7       \
	VMOVUPS Y0, (DX)          \
	VMOVUPS Y1, (DX)(R10*1)   \
	VMOVUPS Y6, (DX)(R10*2)   \
	LEAQ    (DX)(R10*2), BX   \
	VMOVUPS Y7, (BX)(R10*1)   \
	ADDQ    R9, DX

// func Output(dst, src, bias *float32, srcStride, dstRow, dstPix, n8, relu int)
TEXT ·Output(SB), 0, $768-64
	NO_LOCAL_POINTERS
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ bias+16(FP), R13
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	MOVQ dstRow+32(FP), R9
	SHLQ $2, R9
	MOVQ dstPix+40(FP), R10
	SHLQ $2, R10
	MOVQ n8+48(FP), CX
	// Y10 is the floor of max: 0 for the ReLU, -Inf (no change) without.
	MOVL $0xff800000, BX
	MOVQ relu+56(FP), AX
	TESTQ AX, AX
	JZ   outputFloor
	MOVL $0, BX

outputFloor:
	MOVQ BX, X10
	VBROADCASTSS X10, Y10
	MOVL $0x40800000, AX // 4.0
	MOVQ AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x40000000, AX // 2.0
	MOVQ AX, X13
	VBROADCASTSS X13, Y13
	MOVL $0x41000000, AX // 8.0
	MOVQ AX, X14
	VBROADCASTSS X14, Y14
	LEAQ (R8)(R8*2), R11
	SHLQ $1, R11         // 6·stride
	LEAQ (R11)(R11*2), R12 // 18·stride
	LEAQ (R11)(R11*4), AX  // 30·stride

outputLoop:
	VMOVUPS (R13), Y15
	MOVQ SI, BX
	OUT_COL(0)
	OUT_COL(32)
	OUT_COL(64)
	OUT_COL(96)
	OUT_COL(128)
	OUT_COL(160)
	MOVQ DI, DX
	OUT_ROW(0)
	OUT_ROW(192)
	OUT_ROW(384)
	OUT_ROW(576)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R13
	DECQ CX
	JNZ  outputLoop
	VZEROUPPER
	RET

// G3: G g for g0..g2 in Y0..Y2, with Y10 = 1/4, Y11 = -1/6, Y12 = 1/24,
// Y13 = 1/6, Y14 = 1/12. Result u0..u5 in Y3, Y5, Y6, Y8, Y7, Y2.
#define G3 \
	VMULPS       Y10, Y0, Y3 \ // u0 = g0/4
	VADDPS       Y2, Y0, Y4  \ // a = g0 + g2
	VADDPS       Y1, Y4, Y5  \
	VMULPS       Y11, Y5, Y5 \ // u1 = -(a + g1)/6
	VSUBPS       Y1, Y4, Y6  \
	VMULPS       Y11, Y6, Y6 \ // u2 = -(a - g1)/6
	VMULPS       Y12, Y0, Y7 \
	VFMADD231PS  Y13, Y2, Y7 \ // b = g0/24 + g2/6
	VMOVAPS      Y7, Y8      \
	VFMADD231PS  Y14, Y1, Y8 \ // u3 = b + g1/12
	VFNMADD231PS Y14, Y1, Y7   // u4 = b - g1/12

// K_COL transforms the kernel column at BX (taps R11 = 3·tap apart) into
// column off/32 of the 6×3 scratch, then moves BX to the next column.
#define K_COL(off) \
	VMOVUPS (BX), Y0          \
	VMOVUPS (BX)(R11*1), Y1   \
	VMOVUPS (BX)(R11*2), Y2   \
	G3                        \
	VMOVUPS Y3, (off)(SP)     \
	VMOVUPS Y5, (off+96)(SP)  \
	VMOVUPS Y6, (off+192)(SP) \
	VMOVUPS Y8, (off+288)(SP) \
	VMOVUPS Y7, (off+384)(SP) \
	VMOVUPS Y2, (off+480)(SP) \
	ADDQ    R8, BX

// K_ROW transforms the scratch row at off and stores its 6 values at DX,
// DX+R10, ..., leaving DX after the last.
#define K_ROW(off) \
	VMOVUPS (off)(SP), Y0    \
	VMOVUPS (off+32)(SP), Y1 \
	VMOVUPS (off+64)(SP), Y2 \
	G3                       \
	VMOVUPS Y3, (DX)         \
	ADDQ    R10, DX          \
	VMOVUPS Y5, (DX)         \
	ADDQ    R10, DX          \
	VMOVUPS Y6, (DX)         \
	ADDQ    R10, DX          \
	VMOVUPS Y8, (DX)         \
	ADDQ    R10, DX          \
	VMOVUPS Y7, (DX)         \
	ADDQ    R10, DX          \
	VMOVUPS Y2, (DX)         \
	ADDQ    R10, DX

// func Kernel(dst, src *float32, srcTap, dstStride, n8 int)
TEXT ·Kernel(SB), 0, $576-40
	NO_LOCAL_POINTERS
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcTap+16(FP), R8
	SHLQ $2, R8
	MOVQ dstStride+24(FP), R10
	SHLQ $2, R10
	MOVQ n8+32(FP), CX
	LEAQ (R8)(R8*2), R11
	MOVL $0x3e800000, AX // 1/4
	MOVQ AX, X10
	VBROADCASTSS X10, Y10
	MOVL $0xbe2aaaab, AX // -1/6
	MOVQ AX, X11
	VBROADCASTSS X11, Y11
	MOVL $0x3d2aaaab, AX // 1/24
	MOVQ AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x3e2aaaab, AX // 1/6
	MOVQ AX, X13
	VBROADCASTSS X13, Y13
	MOVL $0x3daaaaab, AX // 1/12
	MOVQ AX, X14
	VBROADCASTSS X14, Y14

kernelLoop:
	MOVQ SI, BX
	K_COL(0)
	K_COL(32)
	K_COL(64)
	MOVQ DI, DX
	K_ROW(0)
	K_ROW(96)
	K_ROW(192)
	K_ROW(288)
	K_ROW(384)
	K_ROW(480)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  kernelLoop
	VZEROUPPER
	RET
