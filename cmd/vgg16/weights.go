package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/vgg16"
)

func init() { register(weightsCommand) }

func weightsCommand() *cli.Command {
	return &cli.Command{
		Name:  "weights",
		Usage: "find (or download) Keras's ImageNet weights for VGG16 and print their path",
		Description: `Looks for the weights in Keras's cache (<KERAS_HOME or ~/.keras>/models,
file vgg16_weights_tf_dim_ordering_tf_kernels[_notop].h5), checks their md5,
and downloads them from Keras's URL when missing or damaged. Offline, it says
which URL to fetch and where to put the file, and exits with status 1.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "include-top", Usage: "the full file with the classifier (528 MB) rather than the convolutional base (56 MB)", Value: true},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("weights takes no arguments, got %q", c.Args().Slice())
			}
			p, err := vgg16.Weights(vgg16.Options{IncludeTop: c.Bool("include-top")})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, p)
			return nil
		},
	}
}
