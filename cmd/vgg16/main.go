// Command vgg16 shows what a convolutional network does, on VGG16 or any
// Keras model: its summary, its first-layer filters and its feature maps as
// PNG images, and its top-5 ImageNet predictions.
//
//	vgg16 summary [--include-top=false] [--input-shape H,W,C] [--pooling avg|max]
//	vgg16 filters --out DIR [--layer block1_conv1] [--count N]
//	vgg16 featuremap --image IMG --layer NAME --out DIR [--npy FILE] [--cols N] [--colormap gray|viridis]
//	vgg16 predict --image IMG [--image IMG ...] [--top 5] [--json]
//	vgg16 weights [--include-top=false]
//
// Every command that needs a model takes --model FILE (any Keras model file
// instead of VGG16), --weights FILE (an explicit weights file) and
// --preprocess caffe|tf|torch|rescale:1/255|none. Without --weights, VGG16
// uses Keras's ImageNet weights from Keras's cache (~/.keras/models),
// downloading them like Keras when they are missing; --random-weights
// builds an untrained VGG16 instead (for trying the tool offline).
//
// Each command lives in its own file and adds itself to the command list
// with register in an init function; main only builds the app from that
// list.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// commandMakers builds the CLI's commands, one function per command file,
// in registration order. They are constructors rather than values so that
// each run (and each test) gets fresh flag state.
var commandMakers []func() *cli.Command

// register adds a command to the CLI. Call it from an init function in the
// command's own file.
func register(make func() *cli.Command) { commandMakers = append(commandMakers, make) }

// newApp builds the CLI writing to stdout and stderr.
func newApp(stdout, stderr io.Writer) *cli.App {
	var cmds []*cli.Command
	for _, mk := range commandMakers {
		cmds = append(cmds, mk())
	}
	sort.SliceStable(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return &cli.App{
		Name:      "vgg16",
		Usage:     "look inside VGG16 (or any Keras CNN): filters, feature maps, predictions, summary",
		Commands:  cmds,
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, by run, and turned into an exit status
		// there (never os.Exit inside the library).
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return fmt.Errorf("%w (see %s --help)", err, strings.TrimSpace(c.Command.HelpName+" "))
		},
		HideHelpCommand: true,
	}
}

// run executes the CLI with args (args[0] is the program name) and returns
// the exit status: 0 on success, 1 on an error (printed to stderr), 2 on an
// internal error, which is a bug.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "vgg16: internal error: %v (this is a bug)\n%s", r, debug.Stack())
			status = 2
		}
	}()
	if err := newApp(stdout, stderr).Run(args); err != nil {
		fmt.Fprintf(stderr, "vgg16: %v\n", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
