package h5_test

import (
	"fmt"
	"log"

	"github.com/kerago/kerago/keras/internal/h5"
)

// Reading the pieces of a Keras file: attributes in their various string
// encodings, Keras's chunked attribute lists, group members and a dataset.
func Example() {
	f, err := h5.Open("testdata/synthetic.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	root := f.Root()
	note, _ := root.String("utf8_scalar")      // scalar vlen UTF-8 string
	fixed, _ := root.Strings("fixed_array")    // numpy |S12 array
	names, _ := root.StringList("layer_names") // layer_names0 + layer_names1
	empty, _ := root.Strings("empty_f64")      // Keras's "no weights": float64[0]
	fmt.Printf("%s %q %q %d\n", note, fixed, names, len(empty))

	g, err := f.Group("data/nested")
	if err != nil {
		log.Fatal(err)
	}
	members, _ := g.Members()
	fmt.Println(members)

	w, shape, err := f.ReadFloat32("data/nested/deeper/w:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w, shape)

	// Output:
	// Grüße, κόσμε ["conv2d_1" "" "dense"] ["a" "bb" "c"] 0
	// [{deeper group}]
	// [1 2] [2]
}
