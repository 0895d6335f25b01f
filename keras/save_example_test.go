package keras_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
)

// Save a model built in Go as tf.keras 2.x would (model.save("cnn.h5")),
// and as Keras 3 would (model.save("cnn.keras")); both Kerases load these
// files (scripts/check_go_saved.py checks it).
func ExampleSave() {
	dir, err := os.MkdirTemp("", "save-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m, err := graph.Sequential("cnn", []int{28, 28, 1},
		graph.Conv2D(8, [2]int{3, 3}, graph.Activation("relu"), graph.Name("conv")),
		graph.MaxPooling2D([2]int{2, 2}, graph.Name("pool")),
		graph.Flatten(graph.Name("flatten")),
		graph.Dense(10, graph.Activation("softmax"), graph.Name("predictions")))
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"cnn.h5", "cnn.keras"} {
		path := filepath.Join(dir, name)
		if err := keras.Save(m, path); err != nil {
			log.Fatal(err)
		}
		info, err := keras.Inspect(path)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s, keras_version %s, %s %q\n", name, info.Format, info.KerasVersion, info.ModelClass, info.ModelName)
	}
	// Output:
	// cnn.h5: h5-model, keras_version 2.21.0, Sequential "cnn"
	// cnn.keras: keras, keras_version 3.15.1, Sequential "cnn"
}
