package serve

import (
	"embed"
	"fmt"
	"net/http"
	"path"
)

// The try-it page (GET /): plain HTML, CSS and one script, embedded in the binary so that a served model
// can be tried from a browser with nothing else installed. The page fetches nothing from elsewhere, and its
// Content-Security-Policy forbids it to, so it works offline and behind a firewall.
//
//go:embed page/index.html page/page.css page/page.js
var pageFiles embed.FS

// pageTypes are the content types of the page's files, set explicitly so that they do not depend on the
// system's MIME tables (a scratch container has none).
var pageTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

// pageSecurityPolicy keeps the page to its own server: scripts, styles and requests go to 'self' only;
// images may also be blob: and data: URLs, which is how a dropped image file is read.
const pageSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// PageModel is one model as the try-it page lists it (GET /try/models.json): its name and, for an image
// model, how to turn an image into its input. Its inputs and outputs come from GET /v2/models/NAME.
type PageModel struct {
	Name       string           `json:"name"`
	Preprocess *ImagePreprocess `json:"preprocess"`
}

// PageModels is the body of GET /try/models.json.
type PageModels struct {
	Models []PageModel `json:"models"`
}

// pageFile serves one of the page's files (page/NAME).
func pageFile(name string) handlerFunc {
	return func(c *call) error {
		body, err := pageFiles.ReadFile("page/" + name)
		if err != nil {
			return fmt.Errorf("the try-it page's file %s is not embedded: %w", name, err)
		}
		h := c.w.Header()
		h.Set("Content-Type", pageTypes[path.Ext(name)])
		h.Set("Content-Security-Policy", pageSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// The files change with the binary only; revalidating each time keeps an upgrade from mixing versions.
		h.Set("Cache-Control", "no-cache")
		c.w.WriteHeader(http.StatusOK)
		if c.r.Method != http.MethodHead {
			_, err = c.w.Write(body)
		}
		return err
	}
}

func (s *Server) pageModels(c *call) error {
	models := s.Models()
	list := PageModels{Models: make([]PageModel, 0, len(models))}
	for _, m := range models {
		list.Models = append(list.Models, PageModel{Name: m.name, Preprocess: m.settings.Preprocess})
	}
	writeJSON(c.w, http.StatusOK, list)
	return nil
}
