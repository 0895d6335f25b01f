package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// This file turns arrays into pictures: values to gray levels or colours,
// nearest-neighbour enlargement, and labelled grids. Other command files
// (filters, featuremap, and any added later) share it.

// colormap maps t in [0, 1] to a colour.
type colormap func(t float64) color.RGBA

// levelOf is matplotlib's lookup of a normalised value in a 256-entry
// colormap: floor(t·256), with t = 1 in the last entry.
func levelOf(t float64) int {
	if math.IsNaN(t) || t <= 0 {
		return 0
	}
	return min(int(t*256), 255)
}

// grayMap is matplotlib's "gray": black for the lowest values, white for
// the highest.
func grayMap(t float64) color.RGBA {
	v := uint8(levelOf(t))
	return color.RGBA{v, v, v, 255}
}

// viridisStops are 9 evenly spaced colours of matplotlib's viridis
// colormap (dark purple → blue → green → yellow); viridisMap interpolates
// linearly between them, which is within a few levels of the real table.
var viridisStops = [9][3]float64{
	{0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b}, {0x2c, 0x72, 0x8e}, {0x21, 0x91, 0x8c},
	{0x28, 0xae, 0x80}, {0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30}, {0xfd, 0xe7, 0x25},
}

func viridisMap(t float64) color.RGBA {
	x := float64(levelOf(t)) / 255 * 8
	i := min(int(x), 7)
	f := x - float64(i)
	var c [3]uint8
	for k := range 3 {
		c[k] = uint8(math.Round(viridisStops[i][k]*(1-f) + viridisStops[i+1][k]*f))
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

func parseColormap(s string) (colormap, error) {
	switch s {
	case "", "gray", "grey":
		return grayMap, nil
	case "viridis":
		return viridisMap, nil
	}
	return nil, fmt.Errorf("--colormap %q: want gray or viridis", s)
}

// minMax returns the smallest and largest of v, ignoring NaNs.
func minMax(v []float32) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	if lo > hi { // empty or all NaN
		return 0, 0
	}
	return lo, hi
}

// norm maps x from [lo, hi] to [0, 1] as (x - lo) / (hi - lo); a flat range
// gives 0.
func norm(x, lo, hi float32) float64 {
	if hi <= lo {
		return 0
	}
	return (float64(x) - float64(lo)) / (float64(hi) - float64(lo))
}

// plane draws an h×w array (element (y, x) at v[(y*w+x)*stride]) with cmap,
// each value normalised over [lo, hi] and enlarged to a scale×scale block.
func plane(v []float32, h, w, stride int, lo, hi float32, scale int, cmap colormap) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := range h {
		for x := range w {
			c := cmap(norm(v[(y*w+x)*stride], lo, hi))
			fillRect(img, x*scale, y*scale, scale, scale, c)
		}
	}
	return img
}

// rgbPlane draws three h×w planes as the red, green and blue of one image,
// each normalised over [lo, hi] and enlarged to scale×scale blocks.
func rgbPlane(r, g, b func(y, x int) float32, h, w int, lo, hi float32, scale int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(levelOf(norm(r(y, x), lo, hi))), uint8(levelOf(norm(g(y, x), lo, hi))), uint8(levelOf(norm(b(y, x), lo, hi))), 255}
			fillRect(img, x*scale, y*scale, scale, scale, c)
		}
	}
	return img
}

func fillRect(img *image.RGBA, x, y, w, h int, c color.RGBA) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

// The label font: the 7×13 fixed font of golang.org/x/image.
var labelFace = basicfont.Face7x13

const (
	lineHeight = 13
	charWidth  = 7
	gap        = 6 // pixels between cells
)

// drawText writes s with its top-left corner at (x, y).
func drawText(img draw.Image, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: labelFace,
		Dot: fixed.P(x, y+labelFace.Ascent)}
	d.DrawString(s)
}

// cell is one labelled picture of a grid.
type cell struct {
	img   image.Image
	label string
}

// grid lays cells out in rows of cols, each under its label, with the title
// lines on top, on a white background. Cells may differ in size; each
// column and row is as wide and tall as its largest cell. Columns come in
// groups of group (0 or 1: no groups) separated by a wider gap.
func grid(title []string, cells []cell, cols, group int) *image.RGBA {
	cols = max(1, min(cols, len(cells)))
	rows := (len(cells) + cols - 1) / cols
	colW := make([]int, cols)
	rowH := make([]int, rows)
	for i, c := range cells {
		b := c.img.Bounds()
		colW[i%cols] = max(colW[i%cols], b.Dx(), len(c.label)*charWidth)
		rowH[i/cols] = max(rowH[i/cols], b.Dy())
	}
	group = max(group, 1)
	colGap := func(c int) int {
		if group > 1 && c%group == group-1 {
			return 4 * gap
		}
		return gap
	}
	width := gap
	for c, w := range colW {
		width += w + colGap(c)
	}
	titleH := len(title)*lineHeight + gap
	for _, t := range title {
		width = max(width, len(t)*charWidth+2*gap)
	}
	height := titleH + gap
	for _, h := range rowH {
		height += lineHeight + 2 + h + gap
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, t := range title {
		drawText(img, gap, gap/2+i*lineHeight, t, color.Black)
	}
	y := titleH + gap
	for r := range rows {
		x := gap
		for c := range cols {
			i := r*cols + c
			if i >= len(cells) {
				break
			}
			drawText(img, x, y, cells[i].label, color.RGBA{0x30, 0x30, 0x30, 255})
			b := cells[i].img.Bounds()
			draw.Draw(img, image.Rect(x, y+lineHeight+2, x+b.Dx(), y+lineHeight+2+b.Dy()), cells[i].img, b.Min, draw.Src)
			x += colW[c] + colGap(c)
		}
		y += lineHeight + 2 + rowH[r] + gap
	}
	return img
}

// savePNG writes img to path.
func savePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// fmtRange prints a value range compactly for titles.
func fmtRange(lo, hi float32) string {
	return strings.TrimSpace(fmt.Sprintf("min %.4g, max %.4g", lo, hi))
}
