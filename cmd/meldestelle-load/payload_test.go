package main

import (
	"bytes"
	"image"
	"testing"
)

// The wrong-captcha flood only shows decoding cost if its PNG really is a
// 16-bit image of the stated size that a decoder accepts, padded to the
// stated file size, and its PDFs only pass the type check if they start
// like PDFs.
func TestFloodFilesAreWhatTheyClaim(t *testing.T) {
	files := floodUploads(300<<10, 500)
	if len(files) != 5 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files[:4] {
		if !bytes.HasPrefix(f.data, []byte("%PDF-")) || len(f.data) != 300<<10 {
			t.Errorf("%s: %d bytes, starts %q", f.name, len(f.data), f.data[:8])
		}
	}
	p := files[4]
	if len(p.data) < 290<<10 || len(p.data) > 310<<10 {
		t.Errorf("PNG of %d bytes, want about %d", len(p.data), 300<<10)
	}
	img, format, err := image.Decode(bytes.NewReader(p.data))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.NRGBA64); !ok || format != "png" || img.Bounds().Dx() != 500 || img.Bounds().Dy() != 500 {
		t.Errorf("decoded %s %T %v, want a 500×500 16-bit PNG", format, img, img.Bounds())
	}
}
