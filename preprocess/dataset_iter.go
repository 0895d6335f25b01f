package preprocess

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kerago/kerago/ops"
)

// Batch is one batch of a Dataset.
type Batch struct {
	// Index is the batch number (0-based); Start the index in FilePaths
	// of its first image.
	Index, Start int
	// Images holds the images, shape (n, height, width, channels),
	// float32 values in [0, 255] (not rescaled).
	Images *ops.Tensor
	// Labels holds the labels in the dataset's label mode: "int" gives
	// shape (n) with the class indices, "categorical" (n, classes)
	// one-hot rows, "binary" (n, 1) zeros and ones. Nil without labels.
	// (Keras stores "int" labels as int32; they are float32 here, like
	// every ops.Tensor.)
	Labels *ops.Tensor
	// Classes are the labels as integers (nil without labels) and Paths
	// the files, one per image.
	Classes []int
	Paths   []string
}

// Len returns the number of files (images) in the dataset.
func (d *Dataset) Len() int { return len(d.FilePaths) }

// NumBatches returns the number of batches, the last one possibly short.
func (d *Dataset) NumBatches() int { return (len(d.FilePaths) + d.BatchSize - 1) / d.BatchSize }

// Channels returns the number of channels of the images: 1, 3 or 4.
func (d *Dataset) Channels() int { return d.channels }

// LoadImage decodes and resizes file i of the dataset, as the batches
// hold it: shape (height, width, channels), float32 in [0, 255].
func (d *Dataset) LoadImage(i int) (*ops.Tensor, error) {
	if i < 0 || i >= len(d.FilePaths) {
		return nil, fmt.Errorf("preprocess: dataset image %d out of range [0, %d)", i, len(d.FilePaths))
	}
	t := ops.New(d.ImageSize[0], d.ImageSize[1], d.channels)
	if err := d.loadInto(t.Data, d.FilePaths[i]); err != nil {
		return nil, err
	}
	return t, nil
}

// loadInto reads one file and writes its resized pixels to dst
// (height*width*channels values).
func (d *Dataset) loadInto(dst []float32, path string) error {
	limit := d.opts.MaxFileBytes
	if limit == 0 {
		limit = 1 << 30
	}
	data, err := readFileLimited(path, limit)
	if err != nil {
		return fmt.Errorf("preprocess: dataset: %w", err)
	}
	im, err := decodeTF(data, d.channels, budget(d.opts.MaxPixels), d.opts.JPEG)
	if err != nil {
		return fmt.Errorf("preprocess: dataset: %s: %w", path, err)
	}
	if err := d.resizeInto(dst, im); err != nil {
		return fmt.Errorf("preprocess: dataset: %s: %w", path, err)
	}
	return nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if limit > 0 && st.Size() > limit {
		return nil, fmt.Errorf("%s: file of %d bytes is over the limit of %d (DatasetOptions.MaxFileBytes)", path, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, max(limit, 0)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if limit > 0 && int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: file grew over the limit of %d bytes while read", path, limit)
	}
	return data, nil
}

// resizeInto applies the dataset's geometry (plain resize, smart_resize
// crop or resize_with_pad) to a decoded image.
func (d *Dataset) resizeInto(dst []float32, im *tfImage) error {
	th, tw := d.ImageSize[0], d.ImageSize[1]
	switch {
	case d.opts.CropToAspectRatio:
		// smart_resize on a symbolic tensor: float32 arithmetic.
		ch := max(min(im.h, int(float32(im.w*th)/float32(tw))), 1)
		cw := max(min(im.w, int(float32(im.h*tw)/float32(th))), 1)
		y0 := int(float32(im.h-ch) / 2)
		x0 := int(float32(im.w-cw) / 2)
		return tfResize(dst, window(im, y0, x0, ch, cw), th, tw, d.Interpolation)
	case d.opts.PadToAspectRatio:
		// tf.image.resize_with_pad, in float32.
		fh, fw, fth, ftw := float32(im.h), float32(im.w), float32(th), float32(tw)
		ratio := max(fw/ftw, fh/fth)
		rhf, rwf := fh/ratio, fw/ratio
		rh := int(math.Floor(float64(rhf)))
		rw := int(math.Floor(float64(rwf)))
		ph := max(0, int(math.Floor(float64((fth-rhf)/2))))
		pw := max(0, int(math.Floor(float64((ftw-rwf)/2))))
		if rh <= 0 || rw <= 0 {
			return fmt.Errorf("resize_with_pad %dx%d to %dx%d: output dimensions must be positive (the image would be resized to %dx%d)", im.h, im.w, th, tw, rh, rw)
		}
		if ph+rh > th || pw+rw > tw {
			return fmt.Errorf("resize_with_pad %dx%d to %dx%d: the resized image %dx%d at (%d, %d) does not fit", im.h, im.w, th, tw, rh, rw, ph, pw)
		}
		tmp := make([]float32, rh*rw*im.c)
		if err := tfResize(tmp, window(im, 0, 0, im.h, im.w), rh, rw, d.Interpolation); err != nil {
			return err
		}
		clear(dst[:th*tw*im.c])
		for y := 0; y < rh; y++ {
			copy(dst[((ph+y)*tw+pw)*im.c:], tmp[y*rw*im.c:(y+1)*rw*im.c])
		}
		return nil
	}
	return tfResize(dst, window(im, 0, 0, im.h, im.w), th, tw, d.Interpolation)
}

// DatasetIter streams a dataset's batches: images are decoded ahead by a
// pool of goroutines into at most Prefetch batches beyond the current
// one, so memory stays flat however large the folder.
//
//	it := ds.Iter(ctx)
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type DatasetIter struct {
	ctx    context.Context
	cancel context.CancelFunc
	order  chan *pendingBatch
	wg     sync.WaitGroup
	cur    *Batch
	err    error
	done   bool
}

type pendingBatch struct {
	b     *Batch
	left  atomic.Int32
	ready chan struct{}
	errs  []error // per image, each written by one worker before ready
}

func (p *pendingBatch) finish(k int, err error) {
	p.errs[k] = err
	if p.left.Add(-1) == 0 {
		close(p.ready)
	}
}

// err is the error of the first image (in file order) that failed.
func (p *pendingBatch) err() error {
	for _, e := range p.errs {
		if e != nil {
			return e
		}
	}
	return nil
}

type imageJob struct {
	p *pendingBatch
	k int
}

// Iter starts decoding the dataset's batches, in FilePaths order. Call
// Close when done (Next returning false also releases everything).
func (d *Dataset) Iter(ctx context.Context) *DatasetIter {
	ctx, cancel := context.WithCancel(ctx)
	workers := d.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	prefetch := d.opts.Prefetch
	if prefetch <= 0 {
		prefetch = 2
	}
	it := &DatasetIter{ctx: ctx, cancel: cancel, order: make(chan *pendingBatch, prefetch)}
	jobs := make(chan imageJob, workers)
	it.wg.Add(1 + workers)
	go func() { // feeder: batches in order, then their images
		defer it.wg.Done()
		defer close(jobs)
		defer close(it.order)
		for start, idx := 0, 0; start < len(d.FilePaths); start, idx = start+d.BatchSize, idx+1 {
			p := d.newPending(idx, start)
			select {
			case it.order <- p:
			case <-ctx.Done():
				return
			}
			for k := range p.b.Paths {
				select {
				case jobs <- imageJob{p, k}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	per := d.ImageSize[0] * d.ImageSize[1] * d.channels
	for w := 0; w < workers; w++ {
		go func() {
			defer it.wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					j.p.finish(j.k, ctx.Err())
					continue
				}
				dst := j.p.b.Images.Data[j.k*per : (j.k+1)*per]
				j.p.finish(j.k, d.loadInto(dst, j.p.b.Paths[j.k]))
			}
		}()
	}
	return it
}

func (d *Dataset) newPending(idx, start int) *pendingBatch {
	end := min(start+d.BatchSize, len(d.FilePaths))
	n := end - start
	b := &Batch{
		Index: idx, Start: start,
		Images: ops.New(n, d.ImageSize[0], d.ImageSize[1], d.channels),
		Paths:  d.FilePaths[start:end],
	}
	if d.Labels != nil {
		b.Classes = d.Labels[start:end]
		b.Labels = d.labelTensor(b.Classes)
	}
	p := &pendingBatch{b: b, ready: make(chan struct{}), errs: make([]error, n)}
	p.left.Store(int32(n))
	return p
}

// labelTensor encodes labels in the dataset's label mode, as
// labels_to_dataset does (tf.one_hot gives a zero row for an
// out-of-range label).
func (d *Dataset) labelTensor(classes []int) *ops.Tensor {
	n := len(classes)
	switch d.LabelMode {
	case "categorical":
		k := len(d.ClassNames)
		t := ops.New(n, k)
		for i, c := range classes {
			if c >= 0 && c < k {
				t.Data[i*k+c] = 1
			}
		}
		return t
	case "binary":
		t := ops.New(n, 1)
		for i, c := range classes {
			t.Data[i] = float32(c)
		}
		return t
	}
	t := ops.New(n)
	for i, c := range classes {
		t.Data[i] = float32(c)
	}
	return t
}

// Next waits for the next batch; it returns false at the end, on an error
// (see Err) or once the context is cancelled.
func (it *DatasetIter) Next() bool {
	if it.done {
		return false
	}
	var p *pendingBatch
	var ok bool
	select {
	case p, ok = <-it.order:
	case <-it.ctx.Done():
	}
	if !ok {
		it.err = it.ctx.Err() // nil at the normal end
		it.Close()
		return false
	}
	select {
	case <-p.ready:
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		it.Close()
		return false
	}
	if err := p.err(); err != nil {
		it.err = err
		it.Close()
		return false
	}
	it.cur = p.b
	return true
}

// Batch returns the batch Next moved to. The iterator does not reuse it.
func (it *DatasetIter) Batch() *Batch { return it.cur }

// Err returns the error that stopped the iteration, if any: the first
// file that could not be read, decoded or resized (named in the message),
// or the context's error.
func (it *DatasetIter) Err() error { return it.err }

// Close stops the decoding goroutines and waits for them. It is safe to
// call more than once.
func (it *DatasetIter) Close() {
	if it.done {
		return
	}
	it.done = true
	it.cancel()
	it.wg.Wait()
}
