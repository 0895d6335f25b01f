package ops

import (
	"fmt"
	"runtime"
)

// im2colBudget bounds the scratch matrix of the im2col convolution, in
// float32 values (4 MiB): the output pixels are processed in tiles of
// about im2colBudget/(KH*KW*C) pixels, so memory use does not grow with
// the image. Tests shrink it to exercise the tiling.
var im2colBudget = 1 << 20

// convAlgorithm names a way of computing Conv2D. Conv2D picks one from the
// parameters alone (chooseConvAlgorithm); all give the same result up to
// float32 rounding.
type convAlgorithm int

const (
	// convIm2col copies each tile of output pixels' receptive fields into
	// the rows of a (pixels, KH*KW*C) matrix and multiplies it by the
	// kernel viewed as a (KH*KW*C, F) matrix, one sgemm per tile.
	convIm2col convAlgorithm = iota
	// convPointwise handles 1x1 kernels with stride 1 and no padding: the
	// input viewed as an (N*H*W, C) matrix times the (C, F) kernel is
	// already the output, one sgemm with no copy.
	convPointwise
	// convWinograd handles 3×3 kernels with stride 1 and no dilation, for
	// enough channels and pixels (useWinograd): Winograd's F(4×4, 3×3),
	// 36 sgemms over the channels per block of 4×4 output tiles, with 4×
	// fewer multiplications than im2col (see winograd.go).
	convWinograd
)

func chooseConvAlgorithm(p ConvParams) convAlgorithm {
	if p.KH == 1 && p.KW == 1 && p.SH == 1 && p.SW == 1 &&
		p.PadTop == 0 && p.PadLeft == 0 && p.OH == p.H && p.OW == p.W {
		return convPointwise
	}
	if useWinograd(p) {
		return convWinograd
	}
	return convIm2col
}

// Conv2D computes a Keras Conv2D (cross-correlation, as all deep-learning
// "convolutions") over an NHWC batch:
//
//	in     (N, H, W, C)
//	kernel (KH, KW, C, F)   Keras layout
//	bias   (F) or nil
//	out    (N, OH, OW, F)
//
//	out[n,oy,ox,f] = bias[f] + sum over ky,kx,c of
//	    in[n, oy*SH-PadTop+ky*DH, ox*SW-PadLeft+kx*DW, c] * kernel[ky,kx,c,f]
//
// with input reads outside the image taken as zero. out must not overlap
// in. It panics if p is invalid (see ConvParams.Validate) or a slice length
// disagrees with p.
//
// The algorithm depends on the parameters: a single sgemm for 1×1 kernels,
// Winograd's F(4×4, 3×3) for 3×3 stride-1 kernels over enough channels,
// im2col and sgemm otherwise; all work in bounded scratch space and use
// every core (see the package documentation).
func Conv2D(out, in, kernel, bias []float32, p ConvParams) {
	conv2D("Conv2D", out, in, kernel, bias, p, false)
}

// Conv2DReLU is Conv2D followed by Keras's relu, max(x, 0), applied to each
// block of output values as it is written, while in cache (a NaN stays
// NaN). It is what a Conv2D layer with activation="relu" computes.
func Conv2DReLU(out, in, kernel, bias []float32, p ConvParams) {
	conv2D("Conv2DReLU", out, in, kernel, bias, p, true)
}

func conv2D(name string, out, in, kernel, bias []float32, p ConvParams, relu bool) {
	p.mustValidate(name)
	mustLen(name, "in", in, p.N*p.H*p.W*p.C, shape4(p.N, p.H, p.W, p.C))
	mustLen(name, "kernel", kernel, p.KH*p.KW*p.C*p.F, shape4(p.KH, p.KW, p.C, p.F))
	mustLen(name, "out", out, p.N*p.OH*p.OW*p.F, shape4(p.N, p.OH, p.OW, p.F))
	if bias != nil {
		mustLen(name, "bias", bias, p.F, ShapeString([]int{p.F}))
	}
	switch chooseConvAlgorithm(p) {
	case convPointwise:
		m := p.N * p.H * p.W
		fillRows(out, m, p.F, bias)
		sgemmPar(false, m, p.F, p.C, in, p.C, kernel, p.F, 1, out, p.F)
		if relu {
			parallelFor(len(out), 1<<15, func(lo, hi int) { reluSlice(out[lo:hi]) })
		}
	case convWinograd:
		conv2DWinograd(out, in, kernel, bias, p, relu)
	default:
		conv2DIm2col(out, in, kernel, bias, p, relu)
	}
}

// biasReLU adds bias (nil: none) to each of the rows rows of c (n values
// each) and then, when relu, applies max(·, 0): the epilogue of a product,
// in one pass.
func biasReLU(c []float32, rows, n int, bias []float32, relu bool) {
	switch {
	case bias != nil && relu:
		for r := range rows {
			row := c[r*n : (r+1)*n]
			for j, b := range bias[:len(row)] {
				row[j] = max(row[j]+b, 0)
			}
		}
	case bias != nil:
		for r := range rows {
			row := c[r*n : (r+1)*n]
			for j, b := range bias[:len(row)] {
				row[j] += b
			}
		}
	case relu:
		reluSlice(c[:rows*n])
	}
}

// reluSlice sets x = max(x, 0) in place, keeping NaNs (Go's max returns
// NaN when either operand is NaN, and +0 for max(-0, 0)). It compiles
// without branches: about 6× faster than a test per value on random signs.
func reluSlice(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// conv2DIm2col is the general Conv2D: tiles of output pixels, flattened
// over (N, OH, OW), are unfolded into a bounded scratch matrix (in
// parallel) and multiplied by the kernel with one sgemm each, written
// straight into out, which is (N*OH*OW, F) row-major.
func conv2DIm2col(out, in, kernel, bias []float32, p ConvParams, relu bool) {
	k := p.KH * p.KW * p.C
	total := p.N * p.OH * p.OW
	// The budget covers the tile's output rows too, so that for small K
	// the output tile (written by the sgemm, then given its bias and ReLU)
	// stays in cache.
	tile := max(1, im2colBudget/(k+p.F))
	tile = min(tile, total)
	if tile == 0 {
		return
	}
	if !blasThreaded {
		conv2DIm2colConcurrent(out, in, kernel, bias, p, tile, relu)
		return
	}
	// OpenBLAS threads each sgemm itself: run the tiles one after the
	// other, unfolding each tile in parallel.
	bp := getScratch(tile * k)
	defer putScratch(bp)
	buf := *bp
	// Each goroutine unfolds at least ~16K values, so small tiles stay serial.
	grain := max(1, (1<<14)/k)
	for q0 := 0; q0 < total; q0 += tile {
		q1 := min(q0+tile, total)
		m := q1 - q0
		parallelFor(m, grain, func(lo, hi int) {
			im2col(buf[lo*k:hi*k], in, p, q0+lo, q0+hi)
		})
		o := out[q0*p.F : q1*p.F]
		sgemm(false, m, p.F, k, buf, k, kernel, p.F, 0, o, p.F)
		parallelFor(m, max(1, (1<<14)/p.F), func(lo, hi int) {
			biasReLU(o[lo*p.F:hi*p.F], hi-lo, p.F, bias, relu)
		})
	}
}

// conv2DIm2colConcurrent is conv2DIm2col for a BLAS that does not thread
// its calls by itself: the tiles are shared out among GOMAXPROCS
// goroutines, each with its own scratch matrix (so memory is bounded by
// GOMAXPROCS tiles), unfolding and multiplying its tiles. Tiles are made
// small enough that every goroutine gets work, but no smaller than 64
// pixels, the block size of gonum's sgemm.
func conv2DIm2colConcurrent(out, in, kernel, bias []float32, p ConvParams, tile int, relu bool) {
	k := p.KH * p.KW * p.C
	total := p.N * p.OH * p.OW
	workers := runtime.GOMAXPROCS(0)
	tile = min(tile, max(64, (total+workers-1)/workers))
	// Round the tile count up to a multiple of the workers and even out
	// the tiles, so that each goroutine gets the same amount of work.
	ntiles := (total + tile - 1) / tile
	ntiles = (ntiles + workers - 1) / workers * workers
	tile = (total + ntiles - 1) / ntiles
	ntiles = (total + tile - 1) / tile
	parallelFor(ntiles, 1, func(lo, hi int) {
		bp := getScratch(tile * k)
		defer putScratch(bp)
		buf := *bp
		for t := lo; t < hi; t++ {
			q0 := t * tile
			q1 := min(q0+tile, total)
			m := q1 - q0
			im2col(buf[:m*k], in, p, q0, q1)
			o := out[q0*p.F : q1*p.F]
			sgemm(false, m, p.F, k, buf, k, kernel, p.F, 0, o, p.F)
			biasReLU(o, m, p.F, bias, relu)
		}
	})
}

// im2col writes, for each output pixel q in [q0, q1) (flattened over
// N, OH, OW), its receptive field as one row of KH*KW*C values of dst, in
// kernel order (ky, kx, c); taps outside the input are zero.
func im2col(dst, in []float32, p ConvParams, q0, q1 int) {
	c := p.C
	rowLen := p.KW * c // one kernel row of a receptive field
	k := p.KH * rowLen
	n := q0 / (p.OH * p.OW)
	r := q0 % (p.OH * p.OW)
	oy, ox := r/p.OW, r%p.OW
	for q := q0; q < q1; q++ {
		row := dst[(q-q0)*k : (q-q0+1)*k]
		iy0 := oy*p.SH - p.PadTop
		ix0 := ox*p.SW - p.PadLeft
		img := in[n*p.H*p.W*c : (n+1)*p.H*p.W*c]
		// Whole window inside the columns with no dilation: each kernel
		// row is one contiguous run of the input row.
		contiguous := p.DW == 1 && ix0 >= 0 && ix0+p.KW <= p.W
		for ky := 0; ky < p.KH; ky++ {
			seg := row[ky*rowLen : (ky+1)*rowLen]
			iy := iy0 + ky*p.DH
			if iy < 0 || iy >= p.H {
				clear(seg)
				continue
			}
			inRow := img[iy*p.W*c : (iy+1)*p.W*c]
			if contiguous {
				copy(seg, inRow[ix0*c:(ix0+p.KW)*c])
				continue
			}
			for kx := 0; kx < p.KW; kx++ {
				d := seg[kx*c : (kx+1)*c]
				ix := ix0 + kx*p.DW
				if ix < 0 || ix >= p.W {
					clear(d)
				} else {
					copy(d, inRow[ix*c:(ix+1)*c])
				}
			}
		}
		if ox++; ox == p.OW {
			ox = 0
			if oy++; oy == p.OH {
				oy = 0
				n++
			}
		}
	}
}

// DepthwiseConv2D computes a Keras DepthwiseConv2D: each input channel is
// convolved with its own depth_multiplier (M) filters.
//
//	in     (N, H, W, C)
//	kernel (KH, KW, C, M)   Keras layout
//	bias   (C*M) or nil
//	out    (N, OH, OW, C*M)  p.F must be C*M
//
//	out[n,oy,ox,c*M+m] = bias[c*M+m] + sum over ky,kx of
//	    in[n, oy*SH-PadTop+ky*DH, ox*SW-PadLeft+kx*DW, c] * kernel[ky,kx,c,m]
//
// Windows are indexed as in Conv2D. It runs directly (no im2col), rows of
// output pixels in parallel. It panics on invalid p or slice lengths.
func DepthwiseConv2D(out, in, kernel, bias []float32, p ConvParams) {
	p.mustValidate("DepthwiseConv2D")
	if p.F%p.C != 0 {
		panic(fmt.Sprintf("ops.DepthwiseConv2D: %d output channels is not a multiple of the %d input channels", p.F, p.C))
	}
	m := p.F / p.C
	mustLen("DepthwiseConv2D", "in", in, p.N*p.H*p.W*p.C, shape4(p.N, p.H, p.W, p.C))
	mustLen("DepthwiseConv2D", "kernel", kernel, p.KH*p.KW*p.F, shape4(p.KH, p.KW, p.C, m))
	mustLen("DepthwiseConv2D", "out", out, p.N*p.OH*p.OW*p.F, shape4(p.N, p.OH, p.OW, p.F))
	if bias != nil {
		mustLen("DepthwiseConv2D", "bias", bias, p.F, ShapeString([]int{p.F}))
	}
	c, f := p.C, p.F
	grain := max(1, (1<<15)/max(1, p.OW*f*p.KH*p.KW))
	parallelFor(p.N*p.OH, grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oy := r/p.OH, r%p.OH
			img := in[n*p.H*p.W*c : (n+1)*p.H*p.W*c]
			orow := out[r*p.OW*f : (r+1)*p.OW*f]
			fillRows(orow, p.OW, f, bias)
			for ox := 0; ox < p.OW; ox++ {
				o := orow[ox*f : (ox+1)*f]
				for ky := 0; ky < p.KH; ky++ {
					iy := oy*p.SH - p.PadTop + ky*p.DH
					if iy < 0 || iy >= p.H {
						continue
					}
					for kx := 0; kx < p.KW; kx++ {
						ix := ox*p.SW - p.PadLeft + kx*p.DW
						if ix < 0 || ix >= p.W {
							continue
						}
						x := img[(iy*p.W+ix)*c : (iy*p.W+ix+1)*c]
						kk := kernel[(ky*p.KW+kx)*f : (ky*p.KW+kx+1)*f]
						if m == 1 {
							for i, v := range x {
								o[i] += v * kk[i]
							}
							continue
						}
						for i, v := range x {
							oo := o[i*m : (i+1)*m]
							ki := kk[i*m : (i+1)*m]
							for j := range oo {
								oo[j] += v * ki[j]
							}
						}
					}
				}
			}
		}
	})
}

// Conv2DTranspose computes a Keras Conv2DTranspose (the gradient of Conv2D
// with respect to its input, sometimes called deconvolution):
//
//	in     (N, H, W, C)
//	kernel (KH, KW, F, C)   Keras layout: output channels before input
//	bias   (F) or nil
//	out    (N, OH, OW, F)
//
// Input pixel (y, x) adds in[n,y,x,:]·kernel[ky,kx,:,:]ᵀ to output pixel
// (y*SH - PadTop + ky*DH, x*SW - PadLeft + kx*DW); contributions falling
// outside the output are dropped. NewConvTransposeParams gives the Keras
// output size and TF's padding. It is computed as one sgemm per tile of
// input pixels, (pixels, C) × (C, KH*KW*F), followed by a scatter-add
// (col2im). It panics on invalid p or slice lengths.
func Conv2DTranspose(out, in, kernel, bias []float32, p ConvParams) {
	p.mustValidate("Conv2DTranspose")
	mustLen("Conv2DTranspose", "in", in, p.N*p.H*p.W*p.C, shape4(p.N, p.H, p.W, p.C))
	mustLen("Conv2DTranspose", "kernel", kernel, p.KH*p.KW*p.F*p.C, shape4(p.KH, p.KW, p.F, p.C))
	mustLen("Conv2DTranspose", "out", out, p.N*p.OH*p.OW*p.F, shape4(p.N, p.OH, p.OW, p.F))
	if bias != nil {
		mustLen("Conv2DTranspose", "bias", bias, p.F, ShapeString([]int{p.F}))
	}
	f := p.F
	fillRows(out, p.N*p.OH*p.OW, f, bias)
	kkf := p.KH * p.KW * f // columns of the product: one F-vector per tap
	total := p.N * p.H * p.W
	tile := min(max(1, im2colBudget/kkf), total)
	if tile == 0 {
		return
	}
	cols := make([]float32, tile*kkf)
	for q0 := 0; q0 < total; q0 += tile {
		q1 := min(q0+tile, total)
		m := q1 - q0
		// cols (m, KH*KW*F) = in (m, C) × kernelᵀ, kernel seen as (KH*KW*F, C).
		sgemmPar(true, m, kkf, p.C, in[q0*p.C:q1*p.C], p.C, kernel, p.C, 0, cols, kkf)
		// Scatter-add. Different batch items never collide, so split by n.
		nlo, nhi := q0/(p.H*p.W), (q1-1)/(p.H*p.W)+1
		parallelFor(nhi-nlo, 1, func(lo, hi int) {
			for n := nlo + lo; n < nlo+hi; n++ {
				a := max(q0, n*p.H*p.W)
				b := min(q1, (n+1)*p.H*p.W)
				col2im(out, cols[(a-q0)*kkf:(b-q0)*kkf], p, a, b)
			}
		})
	}
}

// col2im adds the rows of cols, one per input pixel q in [q0, q1) of a
// single batch item, to the output pixels they reach.
func col2im(out, cols []float32, p ConvParams, q0, q1 int) {
	f := p.F
	kkf := p.KH * p.KW * f
	for q := q0; q < q1; q++ {
		n := q / (p.H * p.W)
		r := q % (p.H * p.W)
		y, x := r/p.W, r%p.W
		row := cols[(q-q0)*kkf : (q-q0+1)*kkf]
		for ky := 0; ky < p.KH; ky++ {
			oy := y*p.SH - p.PadTop + ky*p.DH
			if oy < 0 || oy >= p.OH {
				continue
			}
			orow := out[(n*p.OH+oy)*p.OW*f : (n*p.OH+oy+1)*p.OW*f]
			for kx := 0; kx < p.KW; kx++ {
				ox := x*p.SW - p.PadLeft + kx*p.DW
				if ox < 0 || ox >= p.OW {
					continue
				}
				o := orow[ox*f : (ox+1)*f]
				src := row[(ky*p.KW+kx)*f : (ky*p.KW+kx+1)*f]
				for i, v := range src {
					o[i] += v
				}
			}
		}
	}
}
