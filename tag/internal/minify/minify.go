// Package minify turns the tag's source into the file that is served. It is
// used by `go generate ./tag` and by the tag package's tests, never by the
// gateway binary, so esbuild is not linked into it.
package minify

import (
	"errors"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// JS minifies the tag's source for browsers that support ES2017 (every
// browser with sendBeacon and fetch keepalive).
func JS(src []byte) ([]byte, error) {
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
	})
	if len(res.Errors) > 0 {
		msgs := make([]string, 0, len(res.Errors))
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = m.Location.LineText + ": "
			}
			msgs = append(msgs, loc+m.Text)
		}
		return nil, errors.New("minify bg.src.js: " + strings.Join(msgs, "; "))
	}
	return res.Code, nil
}
