// Package templates holds the html/template files of every page,
// embedded so that the binary runs from any directory.
package templates

import "embed"

// FS holds layout.html and one file per page.
//
//go:embed *.html
var FS embed.FS
