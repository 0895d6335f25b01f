package preprocess

import (
	"fmt"
	"slices"

	"github.com/kerago/kerago/ops"
)

// ImgToArray is keras.utils.img_to_array for channels_last: it returns the
// image as a float32 tensor of shape (H, W, C), C = 1 for L and I;16, 3 for
// RGB, 4 for RGBA. Values are the pixel values unchanged (0..255, or
// 0..65535 for I;16); scaling is PreprocessInput's job.
func ImgToArray(im *Image) (*ops.Tensor, error) {
	if err := im.validate(); err != nil {
		return nil, err
	}
	c := im.Channels()
	t := ops.New(im.Height, im.Width, c)
	if im.Mode == ModeI16 {
		for i, v := range im.Pix16 {
			t.Data[i] = float32(v)
		}
		return t, nil
	}
	for i, v := range im.Pix {
		t.Data[i] = float32(v)
	}
	return t, nil
}

// Stack joins tensors of equal shape along a new leading batch axis, as
// np.stack / np.array([x1, x2, ...]) do: n tensors of shape (H, W, C) give
// one of shape (n, H, W, C). The data is copied.
func Stack(ts ...*ops.Tensor) (*ops.Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("preprocess: stack: no tensors")
	}
	for i, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("preprocess: stack: tensor %d is nil", i)
		}
		if !slices.Equal(t.Shape, ts[0].Shape) {
			return nil, fmt.Errorf("preprocess: stack: tensor %d has shape %s, tensor 0 has %s",
				i, ops.ShapeString(t.Shape), ops.ShapeString(ts[0].Shape))
		}
		if len(t.Data) != ops.NumElements(t.Shape) {
			return nil, fmt.Errorf("preprocess: stack: tensor %d has %d values for shape %s",
				i, len(t.Data), ops.ShapeString(t.Shape))
		}
	}
	n := len(ts[0].Data)
	out := ops.New(append([]int{len(ts)}, ts[0].Shape...)...)
	for i, t := range ts {
		copy(out.Data[i*n:(i+1)*n], t.Data)
	}
	return out, nil
}

// ExpandDims returns t with a leading batch axis of size 1, sharing t's
// data: (H, W, C) -> (1, H, W, C), what np.expand_dims(x, 0) does before
// model.predict on a single image.
func ExpandDims(t *ops.Tensor) (*ops.Tensor, error) {
	if t == nil {
		return nil, fmt.Errorf("preprocess: expand dims: nil tensor")
	}
	return ops.FromData(t.Data, append([]int{1}, t.Shape...)...)
}
