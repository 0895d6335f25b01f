package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"unsafe"

	"github.com/sbinet/npyio"
	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/ops"
)

func init() { register(featuremapCommand) }

func featuremapCommand() *cli.Command {
	return &cli.Command{
		Name:  "featuremap",
		Usage: "draw a layer's output (feature maps) on an image as one PNG grid",
		Description: `Runs the model on the image up to the layer (Keras's
Model(inputs=model.input, outputs=layer.output)) and draws every channel of
the output, each min-max normalised on its own as plt.imshow does, in one
labelled grid: OUT/<layer>_<image>.png. With --npy the raw float32 output,
shape (1, H, W, C), is also saved as a NumPy file inside OUT.`,
		Flags: append(append(modelFlags(), imageFlags()...),
			&cli.StringFlag{Name: "image", Usage: "input image `FILE` (JPEG, PNG, GIF, BMP, WebP)", Required: true},
			&cli.StringFlag{Name: "layer", Usage: "layer `NAME` whose output to draw (e.g. block1_conv1, block5_conv3)", Required: true},
			&cli.StringFlag{Name: "out", Usage: "output `DIR` (created if missing)", Required: true},
			&cli.StringFlag{Name: "npy", Usage: "also save the raw output as a .npy `FILE` (relative to --out)"},
			&cli.IntFlag{Name: "cols", Usage: "channels per row of the grid (default: about the square root of the channel count)"},
			&cli.StringFlag{Name: "colormap", Usage: "gray or viridis", Value: "gray"},
			&cli.IntFlag{Name: "min-size", Usage: "channels smaller than this many pixels are enlarged (nearest) to at least it", Value: 64},
		),
		Action: runFeaturemap,
	}
}

func runFeaturemap(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("featuremap takes no arguments, got %q", c.Args().Slice())
	}
	cmap, err := parseColormap(c.String("colormap"))
	if err != nil {
		return err
	}
	if c.Int("cols") < 0 {
		return fmt.Errorf("--cols %d: want a positive number", c.Int("cols"))
	}
	minSize := c.Int("min-size")
	if minSize < 1 || minSize > 4096 {
		return fmt.Errorf("--min-size %d: want 1..4096", minSize)
	}
	imgPath := c.String("image")
	if _, err := os.Stat(imgPath); err != nil {
		return fmt.Errorf("--image: %w", err)
	}
	out, err := outFlag(c)
	if err != nil {
		return err
	}
	npyPath := ""
	if n := c.String("npy"); n != "" {
		if npyPath, err = insideOut(out, n, "npy"); err != nil {
			return err
		}
	}
	lm, err := loadModel(c, false)
	if err != nil {
		return err
	}
	name := c.String("layer")
	if _, err := layerOrError(lm.model, name); err != nil {
		return err
	}
	sub, err := lm.model.SubModel(lm.model.Name()+"_"+name, name)
	if err != nil {
		return err
	}
	if s := sub.Outputs()[0].Shape; len(s) != 3 {
		return fmt.Errorf("layer %q outputs shape %s, not feature maps (height, width, channels); pick a convolution or pooling layer", name, s)
	}
	size, err := inputSize(c, lm.model)
	if err != nil {
		return err
	}
	x, err := loadImages([]string{imgPath}, size, lm.model, lm.pre)
	if err != nil {
		return err
	}
	ys, err := sub.Predict(x)
	if err != nil {
		return err
	}
	y := ys[0]
	h, w, ch := y.Shape[1], y.Shape[2], y.Shape[3]

	cols := c.Int("cols")
	if cols == 0 {
		cols = int(math.Ceil(math.Sqrt(float64(ch))))
	}
	scale := max(1, (minSize+max(h, w)-1)/max(h, w))
	cells := make([]cell, ch)
	flat := 0
	plane1 := make([]float32, h*w)
	for k := range ch {
		for i := range h * w {
			plane1[i] = y.Data[i*ch+k]
		}
		lo, hi := minMax(plane1)
		label := fmt.Sprint(k)
		if hi <= lo {
			flat++
			label += " flat"
		}
		cells[k] = cell{plane(y.Data[k:], h, w, ch, lo, hi, scale, cmap), label}
	}
	lo, hi := minMax(y.Data)
	title := []string{
		fmt.Sprintf("%s output on %s: %d channels of %dx%d (each min-max normalised; %d flat channels drawn black)", name, filepath.Base(imgPath), ch, h, w, flat),
		fmt.Sprintf("input %dx%d, preprocessing %s; output %s; colormap %s", x.Shape[1], x.Shape[2], lm.pre, fmtRange(lo, hi), c.String("colormap")),
		lm.source,
	}
	if lm.random {
		title = append(title, "RANDOM WEIGHTS (untrained): not what a trained network sees")
	}
	if err := makeOut(out); err != nil {
		return err
	}
	stem := fileSafe(name) + "_" + fileSafe(trimExt(filepath.Base(imgPath)))
	gridPath := filepath.Join(out, stem+".png")
	if err := savePNG(gridPath, grid(title, cells, cols, 1)); err != nil {
		return err
	}
	wr := c.App.Writer
	fmt.Fprintln(wr, lm.source)
	fmt.Fprintf(wr, "%s on %s: output (1, %d, %d, %d), %s, %d flat channels\n", name, imgPath, h, w, ch, fmtRange(lo, hi), flat)
	fmt.Fprintf(wr, "grid: %s\n", gridPath)
	if npyPath != "" {
		if err := writeNpy(npyPath, y); err != nil {
			return fmt.Errorf("--npy: %w", err)
		}
		fmt.Fprintf(wr, "npy: %s\n", npyPath)
	}
	return nil
}

func trimExt(s string) string { return s[:len(s)-len(filepath.Ext(s))] }

// writeNpy saves a tensor as a NumPy .npy file of its shape (float32,
// C order). npyio takes the shape from the Go type, so the data is copied
// into a fixed-size array type [d0][d1]...[dk]float32 built at run time.
func writeNpy(path string, t *ops.Tensor) error {
	if len(t.Shape) == 0 || ops.NumElements(t.Shape) != len(t.Data) || len(t.Data) == 0 {
		return fmt.Errorf("writeNpy: bad tensor shape %v for %d values", t.Shape, len(t.Data))
	}
	typ := reflect.TypeFor[float32]()
	for i := len(t.Shape) - 1; i >= 0; i-- {
		typ = reflect.ArrayOf(t.Shape[i], typ)
	}
	arr := reflect.New(typ)
	copy(unsafe.Slice((*float32)(arr.UnsafePointer()), len(t.Data)), t.Data)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := npyio.Write(f, arr.Elem().Interface()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
