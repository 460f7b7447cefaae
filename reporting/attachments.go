package reporting

// AttachmentStore keeps encrypted attachments in chunks. (Issue 4, attachments work.)
type AttachmentStore interface{}
