package web

import (
	"slices"
	"strings"
)

// errorSummary is what the "errors" partial shows at the top of a form
// sent back with errors: one link per wrong field, to the field itself,
// so that a person who cannot see the whole page reaches it at once.
type errorSummary struct {
	Items []errorLink
}

// errorLink is one entry of an error summary.
type errorLink struct {
	Target  string // id of the control the link moves to; "": no link
	Message string // the field's error, translated
}

// newErrorSummary orders errs by fields ("name" or "name=target"), then
// the rest by name, without a link, translating each message with t.
func newErrorSummary(t func(string, ...any) string, errs map[string]string, fields []string) errorSummary {
	var s errorSummary
	seen := map[string]bool{}
	for _, f := range fields {
		name, target, ok := strings.Cut(f, "=")
		if !ok {
			target = name
		}
		if id, has := errs[name]; has && !seen[name] {
			seen[name] = true
			s.Items = append(s.Items, errorLink{Target: target, Message: t(id)})
		}
	}
	rest := make([]string, 0, len(errs))
	for name := range errs {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		// No control to lead to (an error of the whole form): the
		// message stands in the summary without a link.
		s.Items = append(s.Items, errorLink{Message: t(errs[name])})
	}
	return s
}

// fieldErrs builds an error map from pairs of field and message ID, for
// pages whose one error is a string (the login, a row's action); pairs
// with an empty message are left out.
func fieldErrs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}
