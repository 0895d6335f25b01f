package preprocess_test

import (
	"context"
	"fmt"
	"os"

	"github.com/kerago/kerago/preprocess"
)

// The course's
//
//	train = image_dataset_from_directory(path, validation_split=0.25,
//	                                     subset="training", seed=42,
//	                                     image_size=(160, 160), batch_size=8)
//	train = train.map(lambda image, label: (image / 255., label))
//
// in Go. The files come in Keras's order for the same seed (this call is
// one of the cases of scripts/dataset_reference.py).
func ExampleDatasetFromDirectory() {
	seed := int64(42)
	train, err := preprocess.DatasetFromDirectory("../testdata/dataset/tree", preprocess.DatasetOptions{
		ValidationSplit: 0.25, Subset: "training", Seed: &seed,
		ImageSize: [2]int{160, 160}, BatchSize: 8,
		ClassNames: []string{"cats", "dogs"}, // the folder has other classes too
		Log:        os.Stdout,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.ClassNames, train.FilePaths[0])
	it := train.Iter(context.Background())
	defer it.Close()
	for it.Next() {
		b := it.Batch()
		if err := preprocess.DivideBy(b.Images, 255); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(b.Images.Shape, b.Labels.Shape, b.Classes)
	}
	if err := it.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Found 22 files belonging to 2 classes.
	// Using 17 files for training.
	// [cats dogs] ../testdata/dataset/tree/cats/.dotfile.png
	// [8 160 160 3] [8] [0 0 0 0 1 0 1 0]
	// [8 160 160 3] [8] [0 0 1 0 1 1 0 0]
	// [1 160 160 3] [1] [1]
}
