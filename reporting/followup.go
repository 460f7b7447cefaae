package reporting

// FollowupStore keeps the reporter's way back: receipt lookup, messages both ways, withdrawal. (Issue 4, follow-up work.)
type FollowupStore interface{}
