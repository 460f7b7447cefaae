package reporting

import (
	"context"
	"encoding/json"
)

// LegacyCiphertexts re-seals a case's messages, notes and file keys and
// meta data exactly as the code before version 2 did (the row in the AD,
// nothing it says bound), for tests that show such rows still open. It
// returns the new ciphertexts by row ID; files as {wrapped key, meta}.
func LegacyCiphertexts(ctx context.Context, store Store, s *OfficeSession, id string) (msgs, notes map[string][]byte, files map[string][2][]byte, err error) {
	r, team, err := openCase(ctx, store, s, id)
	if err != nil {
		return nil, nil, nil, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return nil, nil, nil, err
	}
	msgs, notes, files = map[string][]byte{}, map[string][]byte{}, map[string][2][]byte{}
	stored, err := store.Messages(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, m := range stored {
		plain, err := dk.Open(m.Body, messageAD(id, m))
		if err != nil {
			return nil, nil, nil, err
		}
		msgs[m.ID] = dk.Seal(plain, messageADv1(id, m.ID))
	}
	storedNotes, err := store.Notes(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, n := range storedNotes {
		plain, err := team.Open(n.Body, noteAD(id, n))
		if err != nil {
			return nil, nil, nil, err
		}
		notes[n.ID] = team.Public().Seal(plain, noteADv1(id, n.ID))
	}
	atts, err := store.Attachments(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, a := range atts {
		fk, meta, err := openAttachmentKey(dk, a)
		if err != nil {
			return nil, nil, nil, err
		}
		plain, err := json.Marshal(meta)
		if err != nil {
			return nil, nil, nil, err
		}
		files[a.ID] = [2][]byte{dk.Wrap(fk, attachmentKeyADv1(id, a.ID)), fk.Seal(plain, attachmentMetaADv1(id, a.ID))}
	}
	return msgs, notes, files, nil
}
