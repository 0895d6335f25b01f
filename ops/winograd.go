package ops

import (
	"runtime"

	"github.com/kerago/kerago/ops/internal/wgasm"
)

// useAVX2 selects the assembly transforms of package wgasm; tests turn it
// off to check the plain-Go ones against the same references.
var useAVX2 = wgasm.Available

// Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015) computes a 4×4 block of a
// stride-1 3×3 convolution from the 6×6 input patch under it with 36
// multiplications per input/output channel pair instead of 144:
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// d is the 6×6 patch, g the 3×3 kernel, ⊙ the element-wise product, and
// the matrices come from polynomial interpolation at the points 0, ±1, ±2
// and ∞:
//
//	     | 4  0 -5  0  1  0 |        | 1/4     0     0 |
//	     | 0 -4 -4  1  1  0 |        | -1/6 -1/6  -1/6 |        | 1  1  1  1  1  0 |
//	Bᵀ = | 0  4 -4 -1  1  0 |    G = | -1/6  1/6  -1/6 |   Aᵀ = | 0  1 -1  2 -2  0 |
//	     | 0 -2 -1  2  1  0 |        | 1/24 1/12   1/6 |        | 0  1  1  4  4  0 |
//	     | 0  2 -1 -2  1  0 |        | 1/24 -1/12  1/6 |        | 0  1 -1  8 -8  1 |
//	     | 0  4  0 -5  0  1 |        | 0       0     1 |
//
// Summed over the C input channels, the element-wise products become 36
// independent matrix products, one per position ξ of the 6×6 transformed
// tile:
//
//	M[ξ] (tiles, F) = V[ξ] (tiles, C) × U[ξ] (C, F)
//
// with V[ξ][t][c] the transformed input patches (Bᵀ d B) and U[ξ][c][f] the
// transformed kernels (G g Gᵀ). Those are sgemm calls, so the convolution
// runs at the BLAS's speed with 4× fewer multiplications than im2col; the
// transforms are a few additions per value (AVX2 kernels on amd64, plain Go
// elsewhere). The price is rounding: the transforms' constants make the
// result differ from the direct sum by a few float32 ulps of the largest
// terms (about 1e-6 relative, see TestWinogradMatchesNaive).
//
// Memory stays bounded whatever the image and layer: the tiles are taken in
// blocks whose V and M fit wgTileBudget, and the transformed kernel, 4× the
// kernel's size, is made for blocks of filters that fit wgKernelBudget, on
// every call. Keeping the transformed kernels between calls would save that
// work (a few percent of a VGG16 pass at batch 1) but cost 4× the
// convolution weights in memory (+235 MB for VGG16). Scratch space comes
// from a pool, so repeated calls allocate nothing.

const (
	wgM = 4  // output tile side
	wgA = 6  // input tile side, wgM + 3 - 1
	wgT = 36 // wgA², values per transformed tile
	wgO = 16 // wgM², outputs per tile
	wgL = 8  // lanes of one AVX2 vector
)

// Budgets, in float32 values, for the scratch space of one Winograd call.
// Tests shrink them to exercise the blocking.
var (
	// wgKernelBudget bounds the transformed kernel block U, 36·C·fb values
	// for a block of fb filters (8 MiB: VGG16's 512-channel layers take
	// their filters in blocks of 104; 2× smaller blocks cost 5-10% more
	// CPU time, 2× larger ones gain nothing measurable).
	wgKernelBudget = 1 << 21
	// wgTileBudget bounds the transformed input V and the products M of a
	// block of tiles: 36·tiles·(C + fb) values (16 MiB; 8 MiB costs 5-10%
	// more CPU time on VGG16's 56×56 and 28×28 layers).
	wgTileBudget = 1 << 22
)

// wgMinTiles is the fewest 4×4 output tiles for which Conv2D uses Winograd:
// below it, the kernel transform (redone on every call) and the products
// with few rows cost more than im2col saves. Measured on VGG16's 512-channel
// layers: at 14×14 (16 tiles) im2col takes about 20% less CPU time; two
// such images (32 tiles) are faster by Winograd, and at 28×28 (49 tiles)
// Winograd is 2× faster.
var wgMinTiles = 32

// useWinograd reports whether Conv2D should compute p with conv2DWinograd:
// 3×3 kernels, stride 1, no dilation, and enough channels and tiles that the
// products dominate the transforms. Tiny convolutions stay on im2col, which
// is also exact on small integer data (the Winograd transforms round).
func useWinograd(p ConvParams) bool {
	if p.KH != 3 || p.KW != 3 || p.SH != 1 || p.SW != 1 || p.DH != 1 || p.DW != 1 {
		return false
	}
	tiles := p.N * ((p.OH + wgM - 1) / wgM) * ((p.OW + wgM - 1) / wgM)
	return p.C >= 16 && p.F >= 16 && tiles >= wgMinTiles
}

// wgScratch is the reusable scratch space of conv2DWinograd.
type wgScratch struct {
	vm, u []float32   // V and M of a tile block (one allocation), a kernel block
	zero  []float32   // a zero bias
	patch [][]float32 // per worker: one zero-padded 6×6×C input patch
	tile  [][]float32 // per worker: one 4×4×fb output tile
}

var wgScratches freeList[*wgScratch]

// grow returns s resized to n values, reallocated only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// perWorker returns bufs with one slice of n values per worker.
func perWorker(bufs [][]float32, workers, n int) [][]float32 {
	for len(bufs) < workers {
		bufs = append(bufs, nil)
	}
	for w := range workers {
		bufs[w] = grow(bufs[w], n)
	}
	return bufs
}

// wgPlan is the blocking of one Winograd convolution.
type wgPlan struct {
	p          ConvParams
	tilesH     int // tiles down one image: ceil(OH/4)
	tilesW     int // tiles across: ceil(OW/4)
	tiles      int // N·tilesH·tilesW
	fb         int // filters per kernel block
	tb         int // tiles per tile block
	relu       bool
	bias, zero []float32
}

func newWgPlan(p ConvParams) wgPlan {
	pl := wgPlan{p: p, tilesH: (p.OH + wgM - 1) / wgM, tilesW: (p.OW + wgM - 1) / wgM}
	pl.tiles = p.N * pl.tilesH * pl.tilesW
	// Filters per block: all of them when the transformed kernel fits the
	// budget, else as many as fit, in whole vectors of 8.
	pl.fb = p.F
	if wgT*p.C*p.F > wgKernelBudget {
		pl.fb = max(16, wgKernelBudget/(wgT*p.C)/16*16)
		// Even the blocks out, keeping whole vectors: 512 filters in
		// blocks of up to 112 become 4 blocks of 104 and one of 96, not 4
		// of 112 and one of 64.
		nb := (p.F + pl.fb - 1) / pl.fb
		pl.fb = ((p.F+nb-1)/nb + wgL - 1) / wgL * wgL
	}
	pl.tb = max(1, wgTileBudget/(wgT*(p.C+pl.fb)))
	nb := (pl.tiles + pl.tb - 1) / pl.tb
	pl.tb = (pl.tiles + nb - 1) / nb
	return pl
}

// conv2DWinograd is Conv2D (plus an optional fused ReLU) for 3×3 kernels,
// stride 1, dilation 1, any padding, by Winograd's F(4×4, 3×3): for each
// block of tiles, the input patches are transformed (in parallel), then for
// each block of filters the kernel block is transformed, the 36 products
// are computed (in parallel), and the output tiles are transformed back,
// with the bias and ReLU added on the way, straight into out.
func conv2DWinograd(out, in, kernel, bias []float32, p ConvParams, relu bool) {
	pl := newWgPlan(p)
	pl.relu = relu
	if pl.tiles == 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	s, ok := wgScratches.get()
	if !ok {
		s = new(wgScratch)
	}
	defer wgScratches.put(s)
	s.zero = grow(s.zero, pl.fb)
	clear(s.zero)
	pl.bias, pl.zero = bias, s.zero
	s.u = grow(s.u, wgT*wgStride(p.C*pl.fb))
	vSize := wgT * wgStride(pl.tb*p.C)
	s.vm = grow(s.vm, vSize+wgT*wgStride(pl.tb*pl.fb))
	vData, mData := s.vm[:vSize], s.vm[vSize:]
	s.patch = perWorker(s.patch, workers, wgT*p.C)
	s.tile = perWorker(s.tile, workers, wgO*pl.fb)

	oneBlock := pl.fb == p.F
	if oneBlock {
		wgTransformKernel(wgMatrices{s.u, wgStride(p.C * p.F)}, kernel, p.C, p.F, 0, p.F)
	}
	for t0 := 0; t0 < pl.tiles; t0 += pl.tb {
		nt := min(pl.tb, pl.tiles-t0)
		v := wgMatrices{vData, wgStride(nt * p.C)}
		parallelForW(nt, max(1, 64/max(1, p.C/64)), func(w, lo, hi int) {
			for t := lo; t < hi; t++ {
				pl.inputTile(v, in, s.patch[w], t0, t, nt)
			}
		})
		for f0 := 0; f0 < p.F; f0 += pl.fb {
			nf := min(pl.fb, p.F-f0)
			u := wgMatrices{s.u, wgStride(p.C * nf)}
			if !oneBlock {
				wgTransformKernel(u, kernel, p.C, p.F, f0, nf)
			}
			m := wgMatrices{mData, wgStride(nt * nf)}
			wgProducts(m, v, u, nt, p.C, nf)
			parallelForW(nt, max(1, 64/max(1, nf/64)), func(w, lo, hi int) {
				for t := lo; t < hi; t++ {
					pl.outputTile(out, m, s.tile[w], t0, t, nt, f0, nf)
				}
			})
		}
	}
}

// wgMatrices is 36 matrices in one slice, matrix ξ starting at ξ·stride.
type wgMatrices struct {
	data   []float32
	stride int
}

// wgStride returns the distance between the 36 matrices of n values each:
// n rounded up to 4 KiB plus one cache line, so that the transforms, which
// touch one row of each of the 36 matrices in turn, do not map all of them
// to the same cache set (as power-of-two distances would).
func wgStride(n int) int { return (n+1023)/1024*1024 + 16 }

// wgProducts computes the 36 products m[ξ] (nt, nf) = v[ξ] (nt, c) ×
// u[ξ] (c, nf), side by side on the cores unless the BLAS threads each
// call itself.
func wgProducts(m, v, u wgMatrices, nt, c, nf int) {
	one := func(x int) {
		sgemm(false, nt, nf, c, v.data[x*v.stride:], c, u.data[x*u.stride:], nf, 0, m.data[x*m.stride:], nf)
	}
	if blasThreaded {
		for x := range wgT {
			one(x)
		}
		return
	}
	parallelFor(wgT, 1, func(lo, hi int) {
		for x := lo; x < hi; x++ {
			one(x)
		}
	})
}

// tilePos returns the batch item and the top-left output pixel of tile t
// (flattened over N, tilesH, tilesW).
func (pl *wgPlan) tilePos(t int) (n, oy, ox int) {
	per := pl.tilesH * pl.tilesW
	n, r := t/per, t%per
	return n, r / pl.tilesW * wgM, r % pl.tilesW * wgM
}

// inputTile writes the transformed patch of tile t0+t into v[ξ][t][:],
// v being 36 matrices (nt, C). Patches reaching outside the image are first copied,
// zero-padded, into patch (6×6×C).
func (pl *wgPlan) inputTile(v wgMatrices, in, patch []float32, t0, t, nt int) {
	p := &pl.p
	c := p.C
	n, oy, ox := pl.tilePos(t0 + t)
	iy0, ix0 := oy-p.PadTop, ox-p.PadLeft
	img := in[n*p.H*p.W*c : (n+1)*p.H*p.W*c]
	if iy0 >= 0 && ix0 >= 0 && iy0+wgA <= p.H && ix0+wgA <= p.W {
		wgInput(v.data[t*c:], img[(iy0*p.W+ix0)*c:], p.W*c, c, v.stride, c)
		return
	}
	clear(patch)
	for i := max(0, -iy0); i < wgA && iy0+i < p.H; i++ {
		j0 := max(0, -ix0)
		j1 := min(wgA, p.W-ix0)
		if j1 <= j0 {
			continue
		}
		row := img[((iy0+i)*p.W+ix0+j0)*c : ((iy0+i)*p.W+ix0+j1)*c]
		copy(patch[(i*wgA+j0)*c:], row)
	}
	wgInput(v.data[t*c:], patch, wgA*c, c, v.stride, c)
}

// outputTile transforms tile t0+t of the products m (36 × (nt, nf)) back to
// 4×4 output pixels for filters [f0, f0+nf), adds the bias (and the ReLU)
// and stores the pixels that fall inside the output. tile is scratch space
// for the tiles that cross the output's bottom or right edge.
func (pl *wgPlan) outputTile(out []float32, m wgMatrices, tile []float32, t0, t, nt, f0, nf int) {
	p := &pl.p
	f := p.F
	n, oy, ox := pl.tilePos(t0 + t)
	bias := pl.zero[:nf]
	if pl.bias != nil {
		bias = pl.bias[f0 : f0+nf]
	}
	base := ((n*p.OH+oy)*p.OW+ox)*f + f0
	if oy+wgM <= p.OH && ox+wgM <= p.OW {
		wgOutput(out[base:], m.data[t*nf:], bias, m.stride, p.OW*f, f, nf, pl.relu)
		return
	}
	wgOutput(tile, m.data[t*nf:], bias, m.stride, wgM*nf, nf, nf, pl.relu)
	for i := 0; i < wgM && oy+i < p.OH; i++ {
		for j := 0; j < wgM && ox+j < p.OW; j++ {
			copy(out[base+(i*p.OW+j)*f:base+(i*p.OW+j)*f+nf], tile[(i*wgM+j)*nf:(i*wgM+j+1)*nf])
		}
	}
}

// wgTransformKernel writes u (36 × (C, nf)) = G g Gᵀ for filters [f0, f0+nf)
// of kernel (3, 3, C, F), in parallel over the input channels.
func wgTransformKernel(u wgMatrices, kernel []float32, c, f, f0, nf int) {
	parallelFor(c, max(1, 4096/nf), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			wgKernel(u.data[ci*nf:], kernel[ci*f+f0:], c*f, u.stride, nf)
		}
	})
}

// The three transforms below work on n lanes (channels or filters) at once:
// a value of the tile is a run of n consecutive float32s, the tile's values
// are runs at the given strides (in float32s). Each has a plain-Go version
// and, on amd64 with AVX2 and FMA, an assembly one for multiples of 8 lanes.

// wgInput writes the 36 runs dst[ξ*dstStride:][:n] = (Bᵀ d B)[ξ] for the
// 6×6 patch d whose value (i, j) is the run src[i*srcRow+j*srcPix:][:n].
func wgInput(dst, src []float32, srcRow, srcPix, dstStride, n int) {
	done := 0
	if useAVX2 && n >= wgL {
		done = n / wgL * wgL
		// Bounds: the last values read and written.
		_ = src[(wgA-1)*srcRow+(wgA-1)*srcPix+done-1]
		_ = dst[(wgT-1)*dstStride+done-1]
		wgasm.Input(&dst[0], &src[0], srcRow, srcPix, dstStride, done/wgL)
	}
	if done < n {
		wgInputGo(dst[done:], src[done:], srcRow, srcPix, dstStride, n-done)
	}
}

// wgOutput writes the 16 runs dst[i*dstRow+j*dstPix:][:n] =
// (Aᵀ m A)[i][j] + bias (then max(·, 0) when relu) for the 6×6 tile m
// whose value ξ is the run src[ξ*srcStride:][:n].
func wgOutput(dst, src, bias []float32, srcStride, dstRow, dstPix, n int, relu bool) {
	done := 0
	if useAVX2 && n >= wgL {
		done = n / wgL * wgL
		_ = src[(wgT-1)*srcStride+done-1]
		_ = dst[(wgM-1)*dstRow+(wgM-1)*dstPix+done-1]
		_ = bias[done-1]
		r := 0
		if relu {
			r = 1
		}
		wgasm.Output(&dst[0], &src[0], &bias[0], srcStride, dstRow, dstPix, done/wgL, r)
	}
	if done < n {
		wgOutputGo(dst[done:], src[done:], bias[done:], srcStride, dstRow, dstPix, n-done, relu)
	}
}

// wgKernel writes the 36 runs dst[ξ*dstStride:][:n] = (G g Gᵀ)[ξ] for the
// 3×3 kernel g whose tap (ky, kx) is the run src[(ky*3+kx)*srcTap:][:n].
func wgKernel(dst, src []float32, srcTap, dstStride, n int) {
	done := 0
	if useAVX2 && n >= wgL {
		done = n / wgL * wgL
		_ = src[8*srcTap+done-1]
		_ = dst[(wgT-1)*dstStride+done-1]
		wgasm.Kernel(&dst[0], &src[0], srcTap, dstStride, done/wgL)
	}
	if done < n {
		wgKernelGo(dst[done:], src[done:], srcTap, dstStride, n-done)
	}
}

// wgInputGo is wgInput in plain Go. The 1-D transform Bᵀ d of a column
// d0..d5 is computed as
//
//	w0 = 4(d0-d2) + (d4-d2)          w3 = (d4-d2) + 2(d3-d1)
//	w1 = (d4-4d2) + (d3-4d1)         w4 = (d4-d2) - 2(d3-d1)
//	w2 = (d4-4d2) - (d3-4d1)         w5 = 4(d1-d3) + (d5-d3)
//
// first down the columns, then along the rows.
func wgInputGo(dst, src []float32, srcRow, srcPix, dstStride, n int) {
	var d, tmp [wgT]float32
	for c := range n {
		for i := range wgA {
			for j := range wgA {
				d[i*wgA+j] = src[i*srcRow+j*srcPix+c]
			}
		}
		for j := range wgA {
			w := wgBT(d[j], d[wgA+j], d[2*wgA+j], d[3*wgA+j], d[4*wgA+j], d[5*wgA+j])
			for i := range wgA {
				tmp[i*wgA+j] = w[i]
			}
		}
		for i := range wgA {
			r := tmp[i*wgA : i*wgA+wgA]
			w := wgBT(r[0], r[1], r[2], r[3], r[4], r[5])
			for j := range wgA {
				dst[(i*wgA+j)*dstStride+c] = w[j]
			}
		}
	}
}

func wgBT(d0, d1, d2, d3, d4, d5 float32) [wgA]float32 {
	t := d4 - d2
	a := d4 - 4*d2
	b := d3 - 4*d1
	e := d3 - d1
	return [wgA]float32{4*(d0-d2) + t, a + b, a - b, t + 2*e, t - 2*e, (d5 - d3) - 4*e}
}

// wgOutputGo is wgOutput in plain Go. The 1-D transform Aᵀ m is
//
//	y0 = m0 + (m1+m2) + (m3+m4)      y2 = (m1+m2) + 4(m3+m4)
//	y1 = (m1-m2) + 2(m3-m4)          y3 = (m1-m2) + 8(m3-m4) + m5
func wgOutputGo(dst, src, bias []float32, srcStride, dstRow, dstPix, n int, relu bool) {
	var tmp [wgM * wgA]float32
	for c := range n {
		for j := range wgA {
			y := wgAT(src[j*srcStride+c], src[(wgA+j)*srcStride+c], src[(2*wgA+j)*srcStride+c],
				src[(3*wgA+j)*srcStride+c], src[(4*wgA+j)*srcStride+c], src[(5*wgA+j)*srcStride+c])
			for i := range wgM {
				tmp[i*wgA+j] = y[i]
			}
		}
		for i := range wgM {
			r := tmp[i*wgA : i*wgA+wgA]
			y := wgAT(r[0], r[1], r[2], r[3], r[4], r[5])
			for j := range wgM {
				v := y[j] + bias[c]
				if relu && !(v > 0) && v == v { // NaN stays NaN, as in relu
					v = 0
				}
				dst[i*dstRow+j*dstPix+c] = v
			}
		}
	}
}

func wgAT(m0, m1, m2, m3, m4, m5 float32) [wgM]float32 {
	s1, d1 := m1+m2, m1-m2
	s2, d2 := m3+m4, m3-m4
	return [wgM]float32{m0 + s1 + s2, d1 + 2*d2, s1 + 4*s2, d1 + 8*d2 + m5}
}

// wgKernelGo is wgKernel in plain Go. The 1-D transform G g is
//
//	u0 = g0/4                        u3 = (g0/24 + g2/6) + g1/12
//	u1 = -((g0+g2) + g1)/6           u4 = (g0/24 + g2/6) - g1/12
//	u2 = -((g0+g2) - g1)/6           u5 = g2
func wgKernelGo(dst, src []float32, srcTap, dstStride, n int) {
	var tmp [wgA * 3]float32
	for c := range n {
		for kx := range 3 {
			u := wgG(src[kx*srcTap+c], src[(3+kx)*srcTap+c], src[(6+kx)*srcTap+c])
			for i := range wgA {
				tmp[i*3+kx] = u[i]
			}
		}
		for i := range wgA {
			u := wgG(tmp[i*3], tmp[i*3+1], tmp[i*3+2])
			for j := range wgA {
				dst[(i*wgA+j)*dstStride+c] = u[j]
			}
		}
	}
}

func wgG(g0, g1, g2 float32) [wgA]float32 {
	a := g0 + g2
	b := g0*(1.0/24) + g2*(1.0/6)
	c := g1 * (1.0 / 12)
	return [wgA]float32{g0 * 0.25, (a + g1) * (-1.0 / 6), (a - g1) * (-1.0 / 6), b + c, b - c, g2}
}
