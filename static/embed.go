// Package static holds the stylesheet and images, embedded so that the
// binary runs from any directory and nothing is loaded from third parties.
package static

import "embed"

// FS holds the static files, served under /static/.
//
//go:embed *.css *.svg
var FS embed.FS
