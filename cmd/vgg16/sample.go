package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

func init() { register(sampleCommand) }

func sampleCommand() *cli.Command {
	return &cli.Command{
		Name:  "sample-image",
		Usage: "draw a synthetic test picture (shapes, stripes, a gradient) as a PNG",
		Description: `Draws a picture made for looking at feature maps: a sky-to-grass
gradient, a red disc, a blue square, a yellow triangle and patches of
horizontal, vertical and diagonal stripes — edges and colours that the first
filters of a CNN respond to. No photo is needed.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "PNG `FILE` to write", Required: true},
			&cli.IntFlag{Name: "size", Usage: "width and height in pixels", Value: 224},
		},
		Action: func(c *cli.Context) error {
			n := c.Int("size")
			if n < 8 || n > 4096 {
				return fmt.Errorf("--size %d: want 8..4096", n)
			}
			p := c.String("out")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if err := savePNG(p, sampleImage(n)); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintln(c.App.Writer, p)
			return nil
		},
	}
}

// sampleImage draws the n×n test picture.
func sampleImage(n int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	f := float64(n)
	for y := range n {
		for x := range n {
			u, v := (float64(x)+0.5)/f, (float64(y)+0.5)/f
			// Background: sky blue at the top fading to grass green.
			c := color.RGBA{uint8(120 - 60*v), uint8(170 + 40*v), uint8(235 - 175*v), 255}
			switch {
			case math.Hypot(u-0.3, v-0.3) < 0.17: // red disc
				c = color.RGBA{220, 30, 30, 255}
			case u > 0.58 && u < 0.88 && v > 0.12 && v < 0.42: // blue square
				c = color.RGBA{30, 50, 200, 255}
			case v > 0.55 && v < 0.9 && math.Abs(u-0.5) < (v-0.55)*0.6: // yellow triangle
				c = color.RGBA{240, 210, 40, 255}
			case u < 0.25 && v > 0.6 && v < 0.95: // horizontal stripes
				if int(v*f/6)%2 == 0 {
					c = color.RGBA{0, 0, 0, 255}
				} else {
					c = color.RGBA{255, 255, 255, 255}
				}
			case u > 0.75 && v > 0.6 && v < 0.95: // vertical stripes
				if int(u*f/6)%2 == 0 {
					c = color.RGBA{0, 0, 0, 255}
				} else {
					c = color.RGBA{255, 255, 255, 255}
				}
			case u > 0.3 && u < 0.7 && v > 0.02 && v < 0.1: // diagonal stripes
				if int((u+v)*f/5)%2 == 0 {
					c = color.RGBA{20, 20, 20, 255}
				} else {
					c = color.RGBA{230, 230, 230, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
