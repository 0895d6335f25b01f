// Package preprocess turns image files into the float32 NHWC tensors a
// Keras ImageNet model expects, the way Keras itself does, and turns the
// model's 1000 scores back into class names.
//
// # The Keras recipe
//
// The classic Keras code for classifying one photo with VGG16 is
//
//	img = keras.utils.load_img(path, target_size=(224, 224))
//	x = keras.utils.img_to_array(img)          # (224, 224, 3) float32, 0..255
//	x = np.expand_dims(x, 0)                    # (1, 224, 224, 3)
//	x = keras.applications.vgg16.preprocess_input(x)
//	preds = model.predict(x)                    # (1, 1000)
//	print(decode_predictions(preds, top=5))
//
// and the Go version is, step for step, LoadImg, ImgToArray, ExpandDims
// (or Stack for a batch), PreprocessInput(x, "caffe") and
// DecodePredictions(preds, 5, index).
//
// # What "caffe" preprocessing is, and why
//
// VGG16 and ResNet50 were trained in Caffe, by people who fed the network
// images the way Caffe loads them: channels in blue, green, red order,
// values 0..255, with the mean pixel of the ImageNet training set
// subtracted and nothing else. The weights learned to expect exactly that,
// so every input must be prepared the same way: swap RGB to BGR and
// subtract [103.939, 116.779, 123.68] (the B, G, R means). There is no
// division: values stay in about [-124, 152]. Feeding RGB, or 0..1 values,
// does not fail; it silently gives worse predictions. Models trained in
// TensorFlow (MobileNet, Inception) use "tf" (x/127.5 - 1, i.e. [-1, 1])
// and the PyTorch-born ones "torch" (x/255, then per-channel ImageNet
// mean and standard deviation). A model's preprocessing is part of the
// model.
//
// # Exactness
//
// load_img is Pillow: Image.open, Image.convert, Image.resize. This
// package reproduces Pillow 13's arithmetic (read from libImaging's
// Convert.c, Resample.c and Geometry.c) on the pixels Go's decoders
// produce, and scripts/preprocess_reference.py checks it against real
// Pillow + Keras output (testdata/): for PNG, GIF, BMP and WebP (lossless
// and lossy) files, every colour mode and all six interpolations, with
// and without keep_aspect_ratio, LoadImg + ImgToArray are identical to
// keras.utils.load_img + img_to_array, value for value (567 cases).
// PreprocessInput and DecodePredictions are identical too.
//
// The rules that matter:
//
//   - Grayscale is L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16,
//     ITU-R 601 luma in 16-bit fixed point.
//   - RGBA to RGB drops alpha; nothing is composited onto a background.
//   - 16-bit PNGs keep the high byte of each sample, except 16-bit
//     grayscale, which Pillow opens as mode "I;16": color_mode="grayscale"
//     keeps values up to 65535 (Image.Mode ModeI16), and "rgb" clips them
//     to 255 instead of scaling, so such a photo turns almost white.
//   - "nearest", load_img's default, samples source pixel
//     floor(x0 + (x+0.5)*scale). The antialiasing filters ("bilinear",
//     "bicubic", "lanczos", "hamming", "box") widen the kernel by the
//     shrink factor when shrinking, in two separable passes with 22-bit
//     fixed-point weights; an RGBA image is premultiplied by alpha for it.
//     This is not TensorFlow's bilinear resize (tf.image.resize, which
//     image_dataset_from_directory uses, does not antialias): the same
//     word gives different numbers in the two Keras loaders.
//   - EXIF orientation is ignored, by Keras and so here: a portrait phone
//     photo stored sideways is classified sideways.
//
// # JPEG
//
// JPEG decoders legitimately disagree. Go's image/jpeg and libjpeg-turbo
// (inside Pillow) use different inverse DCTs, and image/jpeg on its own
// also upsamples the half-resolution colour planes of a typical photo by
// repeating samples and converts colour with other rounding. By default
// LoadImg therefore rebuilds the colour from image/jpeg's planes the way
// libjpeg does (triangle "fancy" upsampling, libjpeg's fixed-point
// tables); only the IDCT difference remains. On the 28 JPEG photos of the
// shared corpus (297x447 to 1920x1280, all 4:2:0), against Pillow:
//
//	                         full size            224x224 nearest
//	                         max    mean |diff|   max    mean |diff|
//	default (JPEGLibjpeg)      3    0.026           3    0.026
//	image/jpeg (JPEGGo)       42    0.556          41    0.554
//
// (levels out of 255, per value; worst photo for max, average of the
// per-photo means; TestJPEGPhotosVsPillow). So JPEG input is "within 3
// levels, 0.03 on average" of Keras's, never bit-identical; exact parity
// tests must use PNG. CMYK JPEGs convert with Pillow's formula.
// Lossy WebP is different: x/image/webp returns limited-range (16..235)
// YCbCr that Go's colour model would read as full range; LoadImg converts
// it with libwebp's upsampler and constants and matches Pillow exactly.
//
// # Limits and errors
//
// The image size is read from the file header before decoding and refused,
// like an over-large target size, above LoadImgOptions.MaxPixels (DefaultMaxPixels, Pillow's decompression
// bomb threshold, 89.5 megapixels). Empty, truncated, unrecognised and
// oversized files give errors naming the file. Formats: JPEG, PNG, GIF
// (first frame), BMP (8, 24 and 32 bits per pixel; x/image/bmp refuses
// 1/4/16-bit and RLE files that Pillow reads) and WebP. Not reproduced:
// in "rgba" mode Pillow makes the pixels of a 16-bit PNG with a tRNS
// chunk transparent when the tRNS value is below 256 and equals their
// clipped or high-byte 8-bit value; here such images are opaque.
//
// # Folders of images
//
// DatasetFromDirectory is Keras's image_dataset_from_directory: classes from
// the sorted sub-folders, Keras's exact file order for a seed (NumPy's
// MT19937 shuffle), validation splits, and TensorFlow's decoding and
// non-antialiased half-pixel bilinear resize (not Resize, which is PIL's).
// Note the trap the course falls into: load_img resizes with "nearest" by
// default, the dataset loader with "bilinear".
package preprocess
