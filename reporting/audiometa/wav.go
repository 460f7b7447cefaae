package audiometa

// isWAV reports a RIFF file of form WAVE.
func isWAV(head []byte) bool {
	return len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE"
}

// wavKeep are the chunks a player needs: the format, the sample count of
// compressed formats and the samples. Every other chunk goes: LIST/INFO
// (title, artist, date, software), id3, bext (the broadcast extension:
// originator, date and time of recording), iXML, XMP and whatever a
// recorder invents. Keeping a list of what stays, not of what goes,
// removes the metadata nobody has thought of yet.
var wavKeep = map[string]bool{"fmt ": true, "fact": true, "data": true}

// cleanWAV keeps the RIFF/WAVE file's fmt, fact and data chunks in their
// order and rewrites the RIFF size. A data chunk that claims more than
// the file holds (a recording cut off before its header was finished)
// is kept as far as it goes.
func cleanWAV(b []byte) ([]byte, bool) {
	if !isWAV(b) {
		return nil, false
	}
	out := make([]byte, 12, len(b))
	copy(out, b[:12])
	var seenFmt, seenData bool
	for p := 12; p < len(b); {
		if len(b)-p < 8 {
			// A trailing odd byte or a cut-off header: nothing to keep.
			break
		}
		id := string(b[p : p+4])
		size := int64(le32(b[p+4:]))
		end := int64(p) + 8 + size
		if end > int64(len(b)) {
			if id != "data" {
				return nil, false
			}
			end = int64(len(b))
			size = end - int64(p) - 8
		}
		if wavKeep[id] {
			switch id {
			case "fmt ":
				seenFmt = true
			case "data":
				seenData = true
			}
			start := len(out)
			out = append(out, b[p:end]...)
			putLE32(out[start+4:], uint32(size))
			if size%2 == 1 {
				out = append(out, 0) // chunks are padded to an even size
			}
		}
		p = int(end + size%2)
	}
	if !seenFmt || !seenData || len(out) > len(b)+1 {
		return nil, false
	}
	putLE32(out[4:], uint32(len(out)-8))
	return out, true
}
