package vgg16

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
)

// convGFLOP is the work of VGG16's 13 convolutions on one 224×224 image,
// in GFLOP (a multiply-add counted as 2): 15.47 G multiply-adds.
const convGFLOP = 30.94

// BenchmarkPredict times the full VGG16 forward pass (with the top, random
// weights) at batch 1 and 8, reporting ms per image and the convolutions'
// GFLOP/s (the whole pass's time divided into the convolutions' work, so a
// lower bound on the convolution speed).
func BenchmarkPredict(b *testing.B) {
	graph.ResetNames()
	m, err := New(Options{IncludeTop: true})
	if err != nil {
		b.Fatal(err)
	}
	InitRandom(m, 1)
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			x := ops.New(batch, 224, 224, 3)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range x.Data {
				x.Data[i] = float32(r.Float64()*255 - 128)
			}
			if _, err := m.Predict(x); err != nil { // warm-up: buffers, caches
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := m.Predict(x); err != nil {
					b.Fatal(err)
				}
			}
			perImage := b.Elapsed().Seconds() / float64(b.N*batch)
			b.ReportMetric(perImage*1e3, "ms/image")
			b.ReportMetric(convGFLOP/perImage, "GFLOP/s")
		})
	}
}
