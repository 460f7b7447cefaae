package reporting

import "slices"

// The vocabularies of CLASSIFICATION.md. Codes are stable identifiers: they
// are stored in the database and used in exports, and their labels are
// translated by message ID (for example "ground.racism").

// Grounds are the grounds of discrimination (Merkmale), in form order.
var Grounds = []string{"racism", "gender", "sexual_identity", "religion", "disability", "age", "social_status", "other", "not_stated"}

// RacismSubgrounds are the sub-grounds of racism, offered to reporters as
// plain-language choices.
var RacismSubgrounds = []string{"antiziganism", "anti_muslim", "anti_black", "antisemitism", "anti_asian", "anti_slavic", "refugee", "residence_status", "nationality", "language", "skin_colour", "ethnic_origin"}

// Areas are the areas of life (Lebensbereiche).
var Areas = []string{"work", "education", "authorities", "police_justice", "goods_services", "housing", "health", "public_space", "media", "other", "not_stated"}

// Roles are the reporter's roles.
var Roles = []string{"affected", "witness", "on_behalf"}

// Wishes are what the reporter wants the office to do.
var Wishes = []string{"document_only", "counselling", "contact_me"}

// Municipalities are the places a report can be routed by.
var Municipalities = []string{"bochum", "herne", "essen", "muelheim", "ennepe_ruhr", "marl", "other_nrw", "outside_nrw", "online", "not_stated"}

// Statuses are the case statuses, in workflow order.
var Statuses = []string{"new", "triage", "counselling", "intervention", "referred", "closed", "documented", "withdrawn"}

// StatusNew is the status of a report that no counsellor has touched yet.
const StatusNew = "new"

func known(vocab []string, code string) bool { return slices.Contains(vocab, code) }
