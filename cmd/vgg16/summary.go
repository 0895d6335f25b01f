package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/vgg16"
)

func init() { register(summaryCommand) }

func summaryCommand() *cli.Command {
	return &cli.Command{
		Name:  "summary",
		Usage: "print model.summary() of VGG16 (with Keras's arguments) or of a Keras model file",
		Description: `Prints the text of Keras's model.summary() (tf.keras 2.0-2.6 layout) for
keras.applications.VGG16(include_top=..., input_shape=..., pooling=...,
classes=..., classifier_activation=...), or with --model FILE for that model.
Keras's checks for the ImageNet weights apply (224x224x3 input with the top,
1000 classes) unless --random-weights says the weights are not ImageNet's.
No weights are loaded.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "summarise this Keras model `FILE` instead of VGG16"},
			&cli.BoolFlag{Name: "include-top", Usage: "include the classifier (flatten, fc1, fc2, predictions)", Value: true},
			&cli.StringFlag{Name: "input-shape", Usage: "input `H,W,C` (None for any size without the top)"},
			&cli.StringFlag{Name: "pooling", Usage: "without the top: avg or max global pooling"},
			&cli.IntFlag{Name: "classes", Usage: "classes of the top", Value: 1000},
			&cli.StringFlag{Name: "classifier-activation", Usage: "activation of predictions: softmax or linear", Value: "softmax"},
			&cli.BoolFlag{Name: "random-weights", Usage: "weights=None: lift the ImageNet checks on input shape and classes"},
		},
		Action: runSummary,
	}
}

func runSummary(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("summary takes no arguments, got %q", c.Args().Slice())
	}
	if p := c.String("model"); p != "" {
		for _, f := range []string{"input-shape", "pooling", "classes", "classifier-activation", "include-top"} {
			if c.IsSet(f) {
				return fmt.Errorf("--%s applies to VGG16, not to --model", f)
			}
		}
		m, err := keras.LoadModel(p)
		if err != nil {
			return fmt.Errorf("--model %s: %w", p, err)
		}
		fmt.Fprint(c.App.Writer, m.Summary())
		return nil
	}
	o := vgg16.Options{
		IncludeTop:           c.Bool("include-top"),
		Pooling:              c.String("pooling"),
		Classes:              c.Int("classes"),
		ClassifierActivation: c.String("classifier-activation"),
		ImageNet:             !c.Bool("random-weights"),
	}
	if s := c.String("input-shape"); s != "" {
		dims, err := parseDims(s, 3, true)
		if err != nil {
			return fmt.Errorf("--input-shape %q: %w", s, err)
		}
		o.InputShape = dims
	}
	graph.ResetNames()
	m, err := vgg16.New(o)
	if err != nil {
		return err
	}
	fmt.Fprint(c.App.Writer, m.Summary())
	return nil
}
