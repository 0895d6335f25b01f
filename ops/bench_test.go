package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// vgg16ConvShapes are the distinct 3x3 "same" convolutions of VGG16 at a
// 224x224 input: input height/width, input channels, filters.
var vgg16ConvShapes = []struct{ hw, c, f int }{
	{224, 3, 64}, {224, 64, 64},
	{112, 64, 128}, {112, 128, 128},
	{56, 128, 256}, {56, 256, 256},
	{28, 256, 512}, {28, 512, 512},
	{14, 512, 512},
}

// BenchmarkConv2DVGG16 times each distinct VGG16 convolution with its
// ReLU (bias included) at batch 1 and 8, through Conv2DReLU ("auto", the
// algorithm Conv2D picks) and through each algorithm forced, and reports
// ms per image and GFLOP/s, counting a multiply-add of the direct
// convolution as 2 flops (so Winograd's figure is an effective rate).
//
//	go test -run - -bench Conv2DVGG16 ./ops/
func BenchmarkConv2DVGG16(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	algos := []struct {
		name string
		run  func(out, in, kernel, bias []float32, p ConvParams)
	}{
		{"auto", Conv2DReLU},
		{"im2col", func(out, in, kernel, bias []float32, p ConvParams) { conv2DIm2col(out, in, kernel, bias, p, true) }},
		{"winograd", func(out, in, kernel, bias []float32, p ConvParams) {
			conv2DWinograd(out, in, kernel, bias, p, true)
		}},
	}
	for _, s := range vgg16ConvShapes {
		for _, n := range []int{1, 8} {
			p, err := NewConvParams(n, s.hw, s.hw, s.c, 3, 3, s.f, 1, 1, 1, 1, "same")
			if err != nil {
				b.Fatal(err)
			}
			in := randSlice(r, p.N*p.H*p.W*p.C)
			kernel := randSlice(r, p.KH*p.KW*p.C*p.F)
			bias := randSlice(r, p.F)
			out := make([]float32, p.N*p.OH*p.OW*p.F)
			flops := 2.0 * float64(p.N*p.OH*p.OW*p.F) * float64(p.KH*p.KW*p.C)
			for _, a := range algos {
				b.Run(fmt.Sprintf("%dx%dx%d-%d/batch%d/%s", s.hw, s.hw, s.c, s.f, n, a.name), func(b *testing.B) {
					for b.Loop() {
						a.run(out, in, kernel, bias, p)
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(sec*1e3/float64(n), "ms/image")
					b.ReportMetric(flops/sec/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkDenseVGG16FC1 times VGG16's first fully connected layer
// (25088 -> 4096, batch 1): a matrix-vector product, memory bound.
func BenchmarkDenseVGG16FC1(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	k, n := 25088, 4096
	in, kernel, bias := randSlice(r, k), randSlice(r, k*n), randSlice(r, n)
	out := make([]float32, n)
	for b.Loop() {
		Dense(out, in, kernel, bias, 1, k, n)
	}
	b.ReportMetric(2*float64(k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMaxPool2D times VGG16's first 2x2 max pool (224x224x64).
func BenchmarkMaxPool2D(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	p, _ := NewPoolParams(1, 224, 224, 64, 2, 2, 2, 2, "valid")
	in := randSlice(r, p.N*p.H*p.W*p.C)
	out := make([]float32, p.N*p.OH*p.OW*p.C)
	for b.Loop() {
		MaxPool2D(out, in, p)
	}
}
