package vault

import (
	"crypto/rand"
	"encoding/binary"

	"golang.org/x/crypto/chacha20poly1305"
)

// ChunkSize is the plaintext size of every chunk of a sealed stream but
// the last.
const ChunkSize = 64 << 10

// chunkAD binds one chunk to its stream (ad), its position and whether it
// is the last: a chunk moved to another position, another stream, or a
// non-final chunk passed off as the end does not open.
func chunkAD(ad AD, idx uint64, last bool) []byte {
	b := binary.AppendUvarint(ad.bytes(), idx)
	if last {
		return append(b, 1)
	}
	return append(b, 0)
}

func (k Key) sealChunk(plain []byte, ad AD, idx uint64, last bool) []byte {
	aead, _ := chacha20poly1305.NewX(k.b[:]) // only fails on a wrong key length
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = version1
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plain, chunkAD(ad, idx, last))
}

func (k Key) openChunk(ct []byte, ad AD, idx uint64, last bool) ([]byte, error) {
	aead, _ := chacha20poly1305.NewX(k.b[:])
	if len(ct) < 1+aead.NonceSize()+aead.Overhead() || ct[0] != version1 {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, ct[1:1+aead.NonceSize()], ct[1+aead.NonceSize():], chunkAD(ad, idx, last))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// ChunkWriter seals a stream of any length in chunks of ChunkSize, so
// that neither side ever holds more than one chunk. Each chunk is sealed
// with XChaCha20-Poly1305 under its own random nonce, with its index and a
// last-chunk flag in the AD: reordering, dropping, truncating or appending
// chunks makes the stream fail to open (the STREAM construction).
type ChunkWriter struct {
	key    Key
	ad     AD
	emit   func(idx uint64, ct []byte) error
	buf    []byte
	idx    uint64
	closed bool
}

// NewChunkWriter returns a writer that seals what is written to it under
// k and ad and hands each sealed chunk, in order, to emit.
func (k Key) NewChunkWriter(ad AD, emit func(idx uint64, ct []byte) error) *ChunkWriter {
	return &ChunkWriter{key: k, ad: ad, emit: emit, buf: make([]byte, 0, ChunkSize)}
}

// Write buffers p and seals every full chunk once more data follows it;
// a full chunk is held back until then, because only Close knows which
// chunk is the last.
func (w *ChunkWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrOpen
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == ChunkSize {
			if err := w.flush(false); err != nil {
				return n - len(p), err
			}
		}
		m := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:m]...)
		p = p[m:]
	}
	return n, nil
}

func (w *ChunkWriter) flush(last bool) error {
	ct := w.key.sealChunk(w.buf, w.ad, w.idx, last)
	w.buf = w.buf[:0]
	if err := w.emit(w.idx, ct); err != nil {
		return err
	}
	w.idx++
	return nil
}

// Close seals what is left as the last chunk (an empty stream is one
// empty last chunk).
func (w *ChunkWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.flush(true)
}

// Chunks returns how many chunks were emitted so far.
func (w *ChunkWriter) Chunks() uint64 { return w.idx }

// ChunkOpener opens the chunks of a stream sealed by ChunkWriter, one at a
// time and in order.
type ChunkOpener struct {
	key  Key
	ad   AD
	idx  uint64
	done bool
}

// NewChunkOpener returns an opener for a stream sealed under k and ad.
func (k Key) NewChunkOpener(ad AD) *ChunkOpener { return &ChunkOpener{key: k, ad: ad} }

// Open opens the next chunk. A chunk after the last one fails (appended
// data), as does a chunk from another position or stream.
func (o *ChunkOpener) Open(ct []byte) ([]byte, error) {
	if o.done {
		return nil, ErrOpen
	}
	plain, err := o.key.openChunk(ct, o.ad, o.idx, false)
	if err != nil {
		if plain, err = o.key.openChunk(ct, o.ad, o.idx, true); err != nil {
			return nil, ErrOpen
		}
		o.done = true
	}
	o.idx++
	return plain, nil
}

// Close reports whether the stream ended properly: without its last
// chunk the stream was truncated, and Close fails.
func (o *ChunkOpener) Close() error {
	if !o.done {
		return ErrOpen
	}
	return nil
}
