package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
)

func init() { register(filtersCommand) }

func filtersCommand() *cli.Command {
	return &cli.Command{
		Name:  "filters",
		Usage: "draw a convolution's learned filters (kernels) as PNG images",
		Description: `Writes, for each filter of the layer, its kernel for each input channel as a
grayscale PNG (black = lowest weight, white = highest, normalised over the
whole layer's min and max, as the course does), an RGB composite when the
layer reads a 3-channel image, and one labelled grid of them all:

  OUT/<layer>_filters.png              the grid
  OUT/<layer>/filter_007_ch002.png     filter 7, input channel 2
  OUT/<layer>/filter_007_rgb.png       filter 7, its 3 channels as colours

With caffe preprocessing (VGG16) the input channels are B, G, R; the RGB
composite puts each where it belongs.`,
		Flags: append(modelFlags(),
			&cli.StringFlag{Name: "out", Usage: "output `DIR` (created if missing)", Required: true},
			&cli.StringFlag{Name: "layer", Usage: "convolution layer `NAME` (default: the first one, block1_conv1 in VGG16)"},
			&cli.IntFlag{Name: "count", Usage: "number of filters to draw, from the first (default: all)"},
			&cli.IntFlag{Name: "channels", Usage: "input channels drawn per filter, from the first (default: 3, or fewer if the layer has fewer; 0: all)", Value: -1},
			&cli.IntFlag{Name: "size", Usage: "size in pixels of a drawn kernel (a 3×3 kernel is enlarged with nearest-neighbour)", Value: 48},
			&cli.IntFlag{Name: "cols", Usage: "filters per row of the grid", Value: 8},
		),
		Action: runFilters,
	}
}

// kernelLayout describes a layer's 4-D kernel as (kh, kw, in, out).
type kernelLayout struct {
	data               []float32
	kh, kw, in, out    int
	inAxis3            bool // Conv2DTranspose stores (kh, kw, out, in)
	class, description string
}

// at returns the kernel weight (y, x) for filter f and input channel c.
func (k *kernelLayout) at(y, x, c, f int) float32 {
	if k.inAxis3 {
		return k.data[((y*k.kw+x)*k.out+f)*k.in+c]
	}
	return k.data[((y*k.kw+x)*k.in+c)*k.out+f]
}

func kernelOf(l graph.Layer) (*kernelLayout, error) {
	b := l.Base()
	ws := b.Weights()
	if len(ws) == 0 || len(ws[0].Shape) != 4 {
		return nil, fmt.Errorf("layer %q (%s) has no convolution kernel", b.Name(), b.Class())
	}
	s := ws[0].Shape
	k := &kernelLayout{data: ws[0].Data, kh: s[0], kw: s[1], in: s[2], out: s[3], class: b.Class()}
	if b.Class() == "Conv2DTranspose" {
		k.in, k.out, k.inAxis3 = s[3], s[2], true
	}
	return k, nil
}

// firstConv returns the first layer (in model order) with a 4-D kernel.
func firstConv(m *graph.Model) graph.Layer {
	for _, l := range m.Layers() {
		if _, err := kernelOf(l); err == nil {
			return l
		}
	}
	return nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// fileSafe makes a layer name usable as a file name.
func fileSafe(name string) string { return unsafeChars.ReplaceAllString(name, "_") }

func runFilters(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("filters takes no arguments, got %q", c.Args().Slice())
	}
	size, cols := c.Int("size"), c.Int("cols")
	if size < 1 || size > 1024 {
		return fmt.Errorf("--size %d: want 1..1024 pixels", size)
	}
	if cols < 1 {
		return fmt.Errorf("--cols %d: want at least 1", cols)
	}
	if c.Int("count") < 0 {
		return fmt.Errorf("--count %d: want a positive number of filters", c.Int("count"))
	}
	if c.Int("channels") < -1 {
		return fmt.Errorf("--channels %d: want 0 (all) or a positive number", c.Int("channels"))
	}
	out, err := outFlag(c)
	if err != nil {
		return err
	}
	lm, err := loadModel(c, false)
	if err != nil {
		return err
	}
	var layer graph.Layer
	if name := c.String("layer"); name != "" {
		if layer, err = layerOrError(lm.model, name); err != nil {
			return err
		}
	} else if layer = firstConv(lm.model); layer == nil {
		return fmt.Errorf("model %q has no convolution layer", lm.model.Name())
	}
	k, err := kernelOf(layer)
	if err != nil {
		return err
	}
	name := layer.Base().Name()

	nf := k.out
	if n := c.Int("count"); n > 0 {
		nf = min(n, k.out)
	}
	nc := min(3, k.in)
	if n := c.Int("channels"); n == 0 {
		nc = k.in
	} else if n > 0 {
		nc = min(n, k.in)
	}
	scale := max(1, size/max(k.kh, k.kw))
	lo, hi := minMax(k.data)

	// Channel names: an image's colours for a layer that reads the input.
	chName := func(ch int) string { return fmt.Sprintf("c%d", ch) }
	bgr := lm.pre.Mode == "caffe"
	rgb := k.in == 3
	if rgb {
		names := [3]string{"R", "G", "B"}
		if bgr {
			names = [3]string{"B", "G", "R"}
		}
		chName = func(ch int) string { return names[ch] }
	}

	dir := filepath.Join(out, fileSafe(name))
	if err := makeOut(out); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cells []cell
	files := 0
	for f := range nf {
		for ch := range nc {
			v := make([]float32, k.kh*k.kw)
			for y := range k.kh {
				for x := range k.kw {
					v[y*k.kw+x] = k.at(y, x, ch, f)
				}
			}
			img := plane(v, k.kh, k.kw, 1, lo, hi, scale, grayMap)
			if err := savePNG(filepath.Join(dir, fmt.Sprintf("filter_%03d_ch%03d.png", f, ch)), img); err != nil {
				return err
			}
			files++
			cells = append(cells, cell{img, fmt.Sprintf("%d %s", f, chName(ch))})
		}
		if rgb {
			get := func(ch int) func(y, x int) float32 {
				if bgr {
					ch = 2 - ch
				}
				return func(y, x int) float32 { return k.at(y, x, ch, f) }
			}
			img := rgbPlane(get(0), get(1), get(2), k.kh, k.kw, lo, hi, scale)
			if err := savePNG(filepath.Join(dir, fmt.Sprintf("filter_%03d_rgb.png", f)), img); err != nil {
				return err
			}
			files++
			cells = append(cells, cell{img, fmt.Sprintf("%d RGB", f)})
		}
	}
	perFilter := nc
	if rgb {
		perFilter++
	}
	title := []string{
		fmt.Sprintf("%s (%s): %d filters of %dx%dx%d; showing %d filters x %d input channels", name, k.class, k.out, k.kh, k.kw, k.in, nf, nc),
		lm.source,
		fmt.Sprintf("gray levels normalised over the whole layer (%s): black = lowest weight, white = highest", fmtRange(lo, hi)),
	}
	if rgb && bgr {
		title = append(title, "input channels are B, G, R (caffe preprocessing); the RGB column shows them in their colours")
	}
	if lm.random {
		title = append(title, "RANDOM WEIGHTS (untrained): these filters are noise, not learned features")
	}
	gridPath := filepath.Join(out, fileSafe(name)+"_filters.png")
	if err := savePNG(gridPath, grid(title, cells, cols*perFilter, perFilter)); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintln(w, lm.source)
	fmt.Fprintf(w, "%s: %d filters %dx%dx%d, weights %s\n", name, k.out, k.kh, k.kw, k.in, fmtRange(lo, hi))
	fmt.Fprintf(w, "wrote %d PNGs (%dx%d px per kernel) in %s\n", files, k.kw*scale, k.kh*scale, dir)
	fmt.Fprintf(w, "grid: %s\n", gridPath)
	return nil
}
