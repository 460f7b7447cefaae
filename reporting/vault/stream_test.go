package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// sealStream seals plain in chunks and returns them.
func sealStream(t *testing.T, k Key, ad AD, plain []byte) [][]byte {
	t.Helper()
	var chunks [][]byte
	w := k.NewChunkWriter(ad, func(idx uint64, ct []byte) error {
		if idx != uint64(len(chunks)) {
			t.Fatalf("chunk %d emitted as %d", len(chunks), idx)
		}
		chunks = append(chunks, ct)
		return nil
	})
	// Odd write sizes, so chunk boundaries fall inside writes.
	for p := plain; len(p) > 0; {
		n := min(len(p), 10007)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return chunks
}

// openStream opens chunks in order and returns the plaintext.
func openStream(k Key, ad AD, chunks [][]byte) ([]byte, error) {
	o := k.NewChunkOpener(ad)
	var out []byte
	for _, ct := range chunks {
		p, err := o.Open(ct)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, o.Close()
}

func TestStreamRoundTrip(t *testing.T) {
	k := NewKey()
	ad := AD{Purpose: "attachment", Row: "r/a"}
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 17} {
		plain := make([]byte, n)
		rand.Read(plain)
		chunks := sealStream(t, k, ad, plain)
		if want := max(1, (n+ChunkSize-1)/ChunkSize); len(chunks) != want {
			t.Errorf("%d bytes: %d chunks, want %d", n, len(chunks), want)
		}
		got, err := openStream(k, ad, chunks)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: round trip failed: %v", n, err)
		}
		for _, ct := range chunks {
			if n > 64 && bytes.Contains(ct, plain[:32]) {
				t.Errorf("%d bytes: plaintext visible in a chunk", n)
			}
		}
	}
}

// Every way of tampering with a sealed stream makes it fail to open.
func TestStreamTampering(t *testing.T) {
	k := NewKey()
	ad := AD{Purpose: "attachment", Row: "r/a"}
	plain := make([]byte, 3*ChunkSize+100)
	rand.Read(plain)
	fresh := func() [][]byte {
		c := sealStream(t, k, ad, plain)
		if len(c) != 4 {
			t.Fatalf("%d chunks, want 4", len(c))
		}
		return c
	}
	other := sealStream(t, k, ad, []byte("another stream under the same key"))
	cases := map[string]func([][]byte) [][]byte{
		"flipped byte": func(c [][]byte) [][]byte { c[1][40] ^= 1; return c },
		"dropped last": func(c [][]byte) [][]byte { return c[:3] },
		"dropped middle": func(c [][]byte) [][]byte {
			return append(c[:1:1], c[2:]...)
		},
		"swapped":  func(c [][]byte) [][]byte { c[0], c[1] = c[1], c[0]; return c },
		"appended": func(c [][]byte) [][]byte { return append(c, other[0]) },
		"appended copy": func(c [][]byte) [][]byte {
			return append(c, c[3])
		},
		"empty": func(c [][]byte) [][]byte { return nil },
	}
	for name, tamper := range cases {
		if _, err := openStream(k, ad, tamper(fresh())); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	// Another stream's AD, or another key, does not open it either.
	if _, err := openStream(k, AD{Purpose: "attachment", Row: "r/b"}, fresh()); !errors.Is(err, ErrOpen) {
		t.Errorf("other AD: err = %v", err)
	}
	if _, err := openStream(NewKey(), ad, fresh()); !errors.Is(err, ErrOpen) {
		t.Errorf("other key: err = %v", err)
	}
	// And the untouched stream still opens.
	if got, err := openStream(k, ad, fresh()); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("untouched: %v", err)
	}
}
