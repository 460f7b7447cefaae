// Package audiometa tells the audio files phones record by their content
// and removes what their containers carry besides the sound: ID3 and APE
// tags, Vorbis comments and OpusTags, MP4 udta and meta boxes, WAV LIST,
// id3 and bext chunks. A voice message can hold the recording app's
// idea of a title ("Voice memo, Hauptstraße 12"), the owner's name, the
// place and time it was recorded; none of that is for the office.
//
// The package works on whole files in memory (attachments are at most a
// few MiB) and never panics on any input: everything is parsed with
// bounds checks, and a file whose layout it cannot rewrite safely comes
// back unchanged with ok false, so that the caller keeps it and warns.
package audiometa

import "errors"

// Content types of the audio formats told apart.
const (
	// MP4 is an MPEG-4 audio file (.m4a, AAC or ALAC in an ISO BMFF
	// container), what iPhones and many Android recorders make.
	MP4 = "audio/mp4"
	// Ogg is Opus or Vorbis in an Ogg container (WhatsApp, Telegram,
	// Signal, many Android recorders).
	Ogg = "audio/ogg"
	// MPEG is an MP3 file.
	MPEG = "audio/mpeg"
	// WAV is RIFF/WAVE, usually uncompressed PCM.
	WAV = "audio/wav"
)

// ErrNotAudio says that a file looked like an audio container at its
// start but holds a video track: it is not a voice message.
var ErrNotAudio = errors.New("audiometa: not an audio file")

// HeadSize is how many bytes of a file's start Detect needs at most.
const HeadSize = 512

// Detect tells an audio file by its first bytes, never by its name or a
// browser-sent type: MP4 (an ftyp box with an audio or generic brand),
// Ogg (a first page starting an Opus or Vorbis stream), MP3 (an ID3v2
// tag or an MPEG audio frame header) or WAV (RIFF/WAVE). It returns ""
// for anything else.
func Detect(head []byte) string {
	switch {
	case isMP4(head):
		return MP4
	case isOgg(head):
		return Ogg
	case isWAV(head):
		return WAV
	case isMP3(head):
		return MPEG
	}
	return ""
}

// Clean returns the file of type typ (a result of Detect) without its
// metadata. ok is false when the file's layout is one Clean cannot
// rewrite safely (an unknown structure, a fragmented MP4, a chained Ogg
// stream): then out is b unchanged and the caller should keep the file
// and warn that its metadata stayed. The output is never larger than the
// input plus a few bytes (a rewritten Ogg comment page). err is
// ErrNotAudio for an MP4 holding video.
func Clean(typ string, b []byte) (out []byte, ok bool, err error) {
	switch typ {
	case MP4:
		out, ok, err = cleanMP4(b)
	case Ogg:
		out, ok = cleanOgg(b)
	case MPEG:
		out, ok = cleanMP3(b)
	case WAV:
		out, ok = cleanWAV(b)
	}
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return b, false, nil
	}
	return out, true, nil
}

// be32 and friends read big- and little-endian integers; callers check
// the length first.
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be64(b []byte) uint64 { return uint64(be32(b))<<32 | uint64(be32(b[4:])) }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func putBE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func putBE64(b []byte, v uint64) { putBE32(b, uint32(v>>32)); putBE32(b[4:], uint32(v)) }

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
