package reporting

// OutboxStore keeps the notification outbox: e-mails waiting to be sent, with retries. (Issue 4, notifications work.)
type OutboxStore interface{}
