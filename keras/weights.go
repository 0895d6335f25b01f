package keras

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
)

// LoadWeightsOptions are the arguments of LoadWeights.
type LoadWeightsOptions struct {
	// ByName matches the file's layers to the model's layers by name
	// instead of by position (Keras's load_weights(by_name=True); legacy
	// .h5 files only). Model layers missing from the file keep their
	// weights.
	ByName bool
	// SkipMismatch, with ByName, skips layers whose weight count or shapes
	// differ instead of failing (Keras's skip_mismatch=True); each skip is
	// reported through Warnf.
	SkipMismatch bool
	// Backend overrides the backend recorded in the file ("theano" or
	// "tensorflow"); see LoadOptions.Backend.
	Backend string
	// Warnf, if set, receives warnings (skipped layers, conversions).
	Warnf func(format string, args ...any)
}

// weightTarget is a model whose weights are being loaded, with what the
// loader knows about it.
type weightTarget struct {
	model  *graph.Model
	lm     *loadedModel              // nil for models not built by this package
	hints  map[graph.Layer]layerHint // may be nil
	strict bool                      // the file is the one the config came from
	info   *FileInfo                 // filled by loadFile
	era    era                       // filled by loadFile for legacy files
}

// kerasLayers returns the layers of m in Keras's model.layers order with
// their class names, skipping conversion layers.
func (t *weightTarget) layersOf(m *graph.Model, lm *loadedModel) ([]graph.Layer, []string) {
	if lm != nil && lm.model == m {
		var ls []graph.Layer
		var cs []string
		for i, l := range lm.kerasLayers {
			if _, isInput := l.(*graph.InputLayer); isInput && lm.sequential {
				continue
			}
			ls = append(ls, l)
			cs = append(cs, lm.classes[i])
		}
		return ls, cs
	}
	var ls []graph.Layer
	var cs []string
	for _, l := range m.Layers() {
		if p, ok := l.(*graph.PermuteLayer); ok && p.Auto {
			continue
		}
		ls = append(ls, l)
		cs = append(cs, l.Base().Class())
	}
	return ls, cs
}

func (t *weightTarget) nestedOf(lm *loadedModel, l graph.Layer) *loadedModel {
	if lm == nil {
		return nil
	}
	return lm.nested[l]
}

// layerWeights returns every weight a layer owns (all weights of a nested
// model, in its layers' order), each once.
func layerWeights(l graph.Layer) []*graph.Weight {
	if m, ok := l.(*graph.Model); ok {
		return m.Weights()
	}
	return l.Base().Weights()
}

// era describes the writer of a weights file, for the conversions Keras's
// preprocess_weights_for_loading applies.
type era struct {
	version string // keras_version attribute, "" if absent (= Keras 1)
	backend string // backend attribute or override, "" if unknown
	theano  bool   // conv kernels must be rotated 180 degrees
	note    string // how theano was decided
}

func (e era) keras1() bool { return e.version == "" || strings.HasPrefix(e.version, "1") }

// copyOp copies one stored array into one model weight, converting it.
type copyOp struct {
	dst      *graph.Weight
	src      h5.Dataset
	srcShape []int
	perm     []int // transpose (output axis i = input axis perm[i]); nil: none
	flip     bool  // rotate the two leading (spatial) axes by 180 degrees
	what     string
}

// run reads the array and stores it, converted, into the weight.
func (op *copyOp) run() error {
	if op.perm == nil && !op.flip {
		if err := op.src.ReadFloat32Into(op.dst.Data); err != nil {
			return fmt.Errorf("%s: %w", op.what, err)
		}
		return nil
	}
	data, shape, err := op.src.ReadFloat32()
	if err != nil {
		return fmt.Errorf("%s: %w", op.what, err)
	}
	if op.perm != nil {
		data, shape = transposeData(data, shape, op.perm)
	}
	if op.flip {
		flipSpatial(data, shape)
	}
	copy(op.dst.Data, data)
	return nil
}

// transposeData returns data (row-major, shape) with axes reordered: output
// axis i is input axis perm[i].
func transposeData(data []float32, shape, perm []int) ([]float32, []int) {
	rank := len(shape)
	inStride := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		inStride[i] = s
		s *= shape[i]
	}
	out := make([]float32, len(data))
	outShape := make([]int, rank)
	stride := make([]int, rank)
	for i, p := range perm {
		outShape[i] = shape[p]
		stride[i] = inStride[p]
	}
	idx := make([]int, rank)
	off := 0
	for o := range out {
		out[o] = data[off]
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < outShape[d] {
				break
			}
			off -= stride[d] * outShape[d]
			idx[d] = 0
		}
	}
	return out, outShape
}

// flipSpatial reverses axes 0 and 1 of a (kh, kw, ...) array in place:
// Keras's conv_utils.convert_kernel, turning a Theano (true convolution)
// kernel into a cross-correlation one.
func flipSpatial(data []float32, shape []int) {
	if len(shape) < 2 {
		return
	}
	kh, kw := shape[0], shape[1]
	inner := 1
	for _, d := range shape[2:] {
		inner *= d
	}
	tmp := make([]float32, inner)
	for y := 0; y < kh; y++ {
		for x := 0; x < kw; x++ {
			y2, x2 := kh-1-y, kw-1-x
			a, b := (y*kw+x)*inner, (y2*kw+x2)*inner
			if a >= b {
				continue
			}
			copy(tmp, data[a:a+inner])
			copy(data[a:a+inner], data[b:b+inner])
			copy(data[b:b+inner], tmp)
		}
	}
}

func permute(shape, perm []int) []int {
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = shape[p]
	}
	return out
}

func shapeStr(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// conversion decides how a stored array of srcShape becomes weight i of
// layer l (Keras's preprocess_weights_for_loading): Keras 1 channels_first
// kernels are transposed, Theano kernels rotated.
func conversion(l graph.Layer, hint layerHint, i int, srcShape, dstShape []int, e era) (perm []int, flip bool) {
	if i != 0 || len(srcShape) != 4 {
		return nil, false
	}
	switch l.(type) {
	case *graph.Conv2DLayer:
		if e.keras1() {
			switch {
			case hint.channelsFirst:
				perm = []int{2, 3, 1, 0} // (out, in, kh, kw) -> (kh, kw, in, out)
			case !slices.Equal(srcShape, dstShape) && slices.Equal(permute(srcShape, []int{2, 3, 1, 0}), dstShape):
				// A th-ordered Keras 1 kernel loaded into a channels_last
				// layer (the same computation on transposed tensors).
				perm = []int{2, 3, 1, 0}
			}
		}
		flip = e.theano
	case *graph.Conv2DTransposeLayer:
		if e.keras1() {
			if hint.channelsFirst {
				perm = []int{2, 3, 0, 1}
			} else {
				perm = []int{0, 1, 3, 2}
			}
		}
		flip = e.theano
	}
	return perm, flip
}

// planLayer matches a layer's weights with stored arrays and returns the
// copies to make. names are the stored weight names (for messages and
// nested-model ordering).
func (t *weightTarget) planLayer(l graph.Layer, lm *loadedModel, k int, fileLayer string, names []string, srcs []h5.Dataset, shapes [][]int, e era) ([]*copyOp, error) {
	type slot struct {
		layer graph.Layer
		w     *graph.Weight
		idx   int // index of w among its layer's weights
	}
	var slots []slot
	if m, ok := l.(*graph.Model); ok {
		cands := nestedOrders(m)
		chosen := pickOrder(cands, names, shapes, e, t)
		for _, s := range chosen {
			slots = append(slots, slot{s.layer, s.w, s.idx})
		}
	} else {
		for i, w := range l.Base().Weights() {
			slots = append(slots, slot{l, w, i})
		}
	}
	name := l.Base().Name()
	if len(slots) != len(srcs) {
		return nil, &mismatchError{fmt.Sprintf("layer #%d (named %q in the current model) was found to correspond to layer %q in the save file; "+
			"however the new layer %q expects %d weights, but the saved weights have %d elements", k, name, fileLayer, name, len(slots), len(srcs))}
	}
	ops := make([]*copyOp, len(slots))
	for i, s := range slots {
		hint := t.hints[s.layer]
		perm, flip := conversion(s.layer, hint, s.idx, shapes[i], s.w.Shape, e)
		got := shapes[i]
		if perm != nil {
			got = permute(got, perm)
		}
		if !slices.Equal(got, s.w.Shape) {
			conv := ""
			if perm != nil {
				conv = fmt.Sprintf(" (transposed from the stored %s)", shapeStr(shapes[i]))
			}
			return nil, &mismatchError{fmt.Sprintf("shape mismatch in layer #%d (named %q): weight %q of layer %q expects shape %s, "+
				"but the saved weight %q of layer %q has shape %s%s", k, name, s.w.Name, s.layer.Base().Name(), shapeStr(s.w.Shape), names[i], fileLayer, shapeStr(got), conv)}
		}
		if e.theano && flip {
			if err := theanoPaddingOK(s.layer); err != nil {
				return nil, err
			}
		}
		ops[i] = &copyOp{dst: s.w, src: srcs[i], srcShape: shapes[i], perm: perm, flip: flip,
			what: fmt.Sprintf("layer %q: weight %q", fileLayer, names[i])}
	}
	return ops, nil
}

// mismatchError is a count or shape mismatch (skippable with SkipMismatch).
type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return e.msg }

// theanoPaddingOK refuses Theano "same" convolutions whose padding differs
// from TensorFlow's (even kernels or strides > 1: Theano pads
// symmetrically, TensorFlow puts the extra row at the bottom).
func theanoPaddingOK(l graph.Layer) error {
	c, ok := l.(*graph.Conv2DLayer)
	if !ok || c.Padding != "same" {
		return nil
	}
	if c.KernelSize[0]%2 == 0 || c.KernelSize[1]%2 == 0 || c.Strides[0] > 1 || c.Strides[1] > 1 {
		return fmt.Errorf("layer %q: a Theano-trained \"same\" convolution with kernel %v and strides %v pads differently from TensorFlow; this is not supported",
			c.Name(), c.KernelSize, c.Strides)
	}
	return nil
}

// nestedSlot is one weight of a nested model.
type nestedSlot struct {
	layer graph.Layer
	w     *graph.Weight
	idx   int
}

// nestedOrders returns the two orders in which Keras versions stored a
// nested model's weights: layer by layer (tf.keras 2.x, Keras 3), and all
// trainable weights then all non-trainable ones (Keras 2.0-2.3's
// Network.weights).
func nestedOrders(m *graph.Model) [][]nestedSlot {
	var flat []nestedSlot
	var trainable []bool
	seen := map[*graph.Weight]bool{}
	var walk func(m *graph.Model, on bool)
	walk = func(m *graph.Model, on bool) {
		on = on && m.Trainable()
		for _, l := range m.Layers() {
			if sub, ok := l.(*graph.Model); ok {
				walk(sub, on)
				continue
			}
			for i, w := range l.Base().Weights() {
				if seen[w] {
					continue
				}
				seen[w] = true
				flat = append(flat, nestedSlot{l, w, i})
				trainable = append(trainable, on && l.Base().Trainable() && w.Trainable)
			}
		}
	}
	walk(m, true)
	var split []nestedSlot
	for pass := 0; pass < 2; pass++ {
		for i, s := range flat {
			if trainable[i] == (pass == 0) {
				split = append(split, s)
			}
		}
	}
	return [][]nestedSlot{flat, split}
}

// pickOrder chooses among candidate orders the one the stored names agree
// with, else the first whose shapes fit.
func pickOrder(cands [][]nestedSlot, names []string, shapes [][]int, e era, t *weightTarget) []nestedSlot {
	if len(cands[0]) != len(names) {
		return cands[0]
	}
	for _, c := range cands {
		ok := true
		for i, s := range c {
			if !nameAgrees(names[i], s.layer.Base().Name(), s.w.Name) {
				ok = false
				break
			}
		}
		if ok {
			return c
		}
	}
	for _, c := range cands {
		ok := true
		for i, s := range c {
			perm, _ := conversion(s.layer, t.hints[s.layer], s.idx, shapes[i], s.w.Shape, e)
			got := shapes[i]
			if perm != nil {
				got = permute(got, perm)
			}
			if !slices.Equal(got, s.w.Shape) {
				ok = false
				break
			}
		}
		if ok {
			return c
		}
	}
	return cands[0]
}

// nameAgrees reports whether a stored weight name such as
// "block1_conv1/kernel:0", "vgg16/block1_conv1/kernel" or
// "block1_conv1_1/kernel:0" names weight wname of layer lname.
func nameAgrees(stored, lname, wname string) bool {
	stored = strings.TrimSuffix(stored, ":0")
	parts := strings.Split(stored, "/")
	if len(parts) < 2 || parts[len(parts)-1] != wname {
		return false
	}
	scope := parts[len(parts)-2]
	return scope == lname || strings.HasPrefix(scope, lname+"_")
}

// ---- legacy HDF5 (Keras 1, Keras 2, tf.keras 2, Keras 3 legacy) ----

// legacyFile is the weights part of a legacy .h5 file: the group holding
// layer_names (the root of a weights-only file, model_weights of a full
// one).
type legacyFile struct {
	g      h5.Group
	era    era
	layers []*legacyLayer
}

type legacyLayer struct {
	name   string
	names  []string
	srcs   []h5.Dataset
	shapes [][]int
}

// readLegacy reads the layer and weight names and the stored shapes (not
// the data) of a legacy weights group.
func readLegacy(f *h5.File, g h5.Group, backendOverride string) (*legacyFile, error) {
	lf := &legacyFile{g: g}
	layerNames, err := g.StringList("layer_names")
	if err != nil {
		return nil, fmt.Errorf("reading layer_names: %w", err)
	}
	lf.era.version = attrString(g, "keras_version")
	if lf.era.version == "" && g.Path() != "/" {
		lf.era.version = attrString(f.Root(), "keras_version")
	}
	lf.era.backend = attrString(g, "backend")
	if lf.era.backend == "" && g.Path() != "/" {
		lf.era.backend = attrString(f.Root(), "backend")
	}
	seen := map[string]bool{}
	noSuffix, total := 0, 0
	for _, ln := range layerNames {
		if seen[ln] {
			return nil, fmt.Errorf("layer_names lists %q twice", ln)
		}
		seen[ln] = true
		lg, err := g.Group(ln)
		if err != nil {
			return nil, fmt.Errorf("layer %q listed in layer_names: %w", ln, err)
		}
		var wn []string
		if ok, _ := lg.HasAttr("weight_names"); ok {
			if wn, err = lg.StringList("weight_names"); err != nil {
				return nil, fmt.Errorf("layer %q: reading weight_names: %w", ln, err)
			}
		}
		l := &legacyLayer{name: ln, names: wn}
		for _, n := range wn {
			ds, err := lg.Dataset(n)
			if err != nil {
				return nil, fmt.Errorf("layer %q: weight %q: %w", ln, n, err)
			}
			info, err := ds.Info()
			if err != nil {
				return nil, fmt.Errorf("layer %q: weight %q: %w", ln, n, err)
			}
			if info.Shape == nil {
				return nil, fmt.Errorf("layer %q: weight %q has no data", ln, n)
			}
			l.srcs = append(l.srcs, ds)
			l.shapes = append(l.shapes, info.Shape)
			total++
			if !strings.HasSuffix(n, ":0") {
				noSuffix++
			}
		}
		lf.layers = append(lf.layers, l)
	}
	e := &lf.era
	switch {
	case backendOverride != "":
		e.backend = backendOverride
		e.theano = backendOverride == "theano"
		e.note = "backend given by the caller"
	case e.backend == "theano":
		e.theano = true
		e.note = "the file records backend theano"
	case e.backend == "" && e.keras1() && total > 0 && noSuffix == total:
		// Keras 1 did not record the backend. TensorFlow variables are
		// always named "<name>:0"; Theano shared variables never are.
		e.theano = true
		e.backend = "theano"
		e.note = "Keras 1 file without a backend attribute whose weight names lack TensorFlow's \":0\" suffix: written by the Theano backend"
	}
	return lf, nil
}

// attrString reads a string attribute, "" if absent or unreadable.
func attrString(o interface {
	HasAttr(string) (bool, error)
	String(string) (string, error)
}, name string) string {
	if ok, _ := o.HasAttr(name); !ok {
		return ""
	}
	s, err := o.String(name)
	if err != nil {
		return ""
	}
	return s
}

// loadLegacy assigns a legacy file's weights to the target model.
func (t *weightTarget) loadLegacy(lf *legacyFile, opts LoadWeightsOptions) error {
	layers, _ := t.layersOf(t.model, t.lm)
	var plan []*copyOp
	if opts.ByName {
		index := map[string][]graph.Layer{}
		for _, l := range layers {
			index[l.Base().Name()] = append(index[l.Base().Name()], l)
		}
		for k, fl := range lf.layers {
			for _, l := range index[fl.name] {
				ops, err := t.planLayer(l, t.nestedOf(t.lm, l), k, fl.name, fl.names, fl.srcs, fl.shapes, lf.era)
				var mm *mismatchError
				if errors.As(err, &mm) && opts.SkipMismatch {
					if opts.Warnf != nil {
						opts.Warnf("skipping loading of weights for layer %q: %s", fl.name, mm.msg)
					}
					continue
				}
				if err != nil {
					return err
				}
				plan = append(plan, ops...)
			}
		}
		return runPlan(plan)
	}
	var weighted []graph.Layer
	for _, l := range layers {
		if len(layerWeights(l)) > 0 {
			weighted = append(weighted, l)
		}
	}
	var stored []*legacyLayer
	for _, fl := range lf.layers {
		if len(fl.names) > 0 {
			stored = append(stored, fl)
		}
	}
	if len(weighted) != len(stored) {
		return fmt.Errorf("you are trying to load a weight file containing %d layers with weights (%s) into a model with %d layers with weights (%s)",
			len(stored), quoteList(legacyNames(stored)), len(weighted), quoteList(layerNames(weighted)))
	}
	// A full model file was written from the config it carries: its
	// weighted layers must come in the same order as the model's. A
	// difference would be a bug in this package's ordering, not in the file.
	if t.strict {
		for k, l := range weighted {
			if l.Base().Name() != stored[k].name {
				// Should not happen; the names identify the layers
				// anyway, so pair them by name.
				byName := *t
				byName.strict = false
				opts.ByName, opts.SkipMismatch = true, false
				if len(setDiff(layerNames(weighted), legacyNames(stored))) > 0 {
					return fmt.Errorf("the file's layers with weights (%s) are not the model's (%s)", quoteList(legacyNames(stored)), quoteList(layerNames(weighted)))
				}
				return byName.loadLegacy(lf, opts)
			}
		}
	}
	for k, l := range weighted {
		fl := stored[k]
		ops, err := t.planLayer(l, t.nestedOf(t.lm, l), k, fl.name, fl.names, fl.srcs, fl.shapes, lf.era)
		if err != nil {
			return err
		}
		plan = append(plan, ops...)
	}
	return runPlan(plan)
}

// setDiff returns the elements of a not in b.
func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func legacyNames(ls []*legacyLayer) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.name
	}
	return out
}

func layerNames(ls []graph.Layer) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Base().Name()
	}
	return out
}

// runPlan performs the copies once every count and shape has been checked.
func runPlan(plan []*copyOp) error {
	for _, op := range plan {
		if err := op.run(); err != nil {
			return fmt.Errorf("%w (the model's weights are partly updated)", err)
		}
	}
	return nil
}

// ---- Keras 3 weight stores (.weights.h5, model.weights.h5 in .keras) ----

// storeRoot returns the container group name of a Keras 3 store: "layers"
// (Keras 3) or "_layer_checkpoint_dependencies" (tf.keras 2.13-2.15).
func storeContainer(g h5.Group) (string, bool) {
	for _, c := range []string{"layers", "_layer_checkpoint_dependencies"} {
		if k, err := g.Kind(c); err == nil && k == h5.KindGroup {
			return c, true
		}
	}
	return "", false
}

// snakeCase is Keras 3's naming.to_snake_case, which names the groups of a
// weight store after the layers' classes.
func snakeCase(name string) string {
	var b []rune
	for _, r := range name {
		if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b = append(b, r)
		}
	}
	// "(.)([A-Z][a-z]+)" -> "\1_\2"
	s := string(b)
	var out []rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if i > 0 && isUpper(rs[i]) && i+1 < len(rs) && isLower(rs[i+1]) {
			out = append(out, '_')
		}
		out = append(out, rs[i])
	}
	// "([a-z])([A-Z])" -> "\1_\2"
	rs = out
	out = nil
	for i := 0; i < len(rs); i++ {
		out = append(out, rs[i])
		if isLower(rs[i]) && i+1 < len(rs) && isUpper(rs[i+1]) {
			out = append(out, '_')
		}
	}
	return strings.ToLower(string(out))
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
func isLower(r rune) bool { return r >= 'a' && r <= 'z' }

// planStore matches the layers of model m (recursively) with the vars
// groups of a Keras 3 store under prefix.
func (t *weightTarget) planStore(g h5.Group, container, prefix string, m *graph.Model, lm *loadedModel, checkNames bool) ([]*copyOp, error) {
	layers, classes := t.layersOf(m, lm)
	used := map[string]int{}
	var plan []*copyOp
	for i, l := range layers {
		name := snakeCase(classes[i])
		if n, ok := used[name]; ok {
			used[name] = n + 1
			name = fmt.Sprintf("%s_%d", name, n+1)
		} else {
			used[name] = 0
		}
		path := prefix + container + "/" + name
		if sub, ok := l.(*graph.Model); ok {
			ops, err := t.planStore(g, container, path+"/", sub, t.nestedOf(lm, l), checkNames)
			if err != nil {
				return nil, err
			}
			plan = append(plan, ops...)
			continue
		}
		ws := l.Base().Weights()
		varsPath := path + "/vars"
		k, _ := g.Kind(varsPath)
		if k != h5.KindGroup {
			if len(ws) == 0 {
				continue
			}
			return nil, fmt.Errorf("layer %q (%s): the weights file has no group %q for its %d weights", l.Base().Name(), classes[i], varsPath, len(ws))
		}
		vg, err := g.Group(varsPath)
		if err != nil {
			return nil, err
		}
		if checkNames {
			if stored := attrString(vg, "name"); stored != "" && stored != l.Base().Name() {
				return nil, fmt.Errorf("layer %q (%s): the weights in group %q were saved for a layer named %q: the config and the weights do not match",
					l.Base().Name(), classes[i], varsPath, stored)
			}
		}
		members, err := vg.Members()
		if err != nil {
			return nil, err
		}
		nDatasets := 0
		for _, mb := range members {
			if mb.Kind == h5.KindDataset {
				nDatasets++
			}
		}
		if nDatasets != len(ws) {
			return nil, fmt.Errorf("layer %q (%s) expected %d variables, but received %d variables during loading (group %q)",
				l.Base().Name(), classes[i], len(ws), nDatasets, varsPath)
		}
		for j, w := range ws {
			ds, err := vg.Dataset(strconv.Itoa(j))
			if err != nil {
				return nil, fmt.Errorf("layer %q: variable %d: %w", l.Base().Name(), j, err)
			}
			info, err := ds.Info()
			if err != nil {
				return nil, fmt.Errorf("layer %q: variable %d: %w", l.Base().Name(), j, err)
			}
			if !slices.Equal(info.Shape, w.Shape) {
				return nil, fmt.Errorf("shape mismatch in layer %q (%s): weight %q expects shape %s, but the saved variable %s/%d has shape %s",
					l.Base().Name(), classes[i], w.Name, shapeStr(w.Shape), varsPath, j, shapeStr(info.Shape))
			}
			plan = append(plan, &copyOp{dst: w, src: ds, srcShape: info.Shape, what: fmt.Sprintf("layer %q: %s/%d", l.Base().Name(), varsPath, j)})
		}
	}
	return plan, nil
}

// loadStore assigns a Keras 3 store's weights to the target model.
func (t *weightTarget) loadStore(f *h5.File, opts LoadWeightsOptions) error {
	if opts.ByName {
		return errors.New("loading by name is not supported for Keras 3 weight files, which address layers by class and position (Keras refuses it too)")
	}
	container, ok := storeContainer(f.Root())
	if !ok {
		return errors.New("the weights file has neither a \"layers\" nor a \"_layer_checkpoint_dependencies\" group")
	}
	plan, err := t.planStore(f.Root(), container, "", t.model, t.lm, t.strict)
	if err != nil {
		return err
	}
	return runPlan(plan)
}
