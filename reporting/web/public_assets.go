package web

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/static"
)

// Captcha image size in pixels.
const captchaWidth, captchaHeight = 240, 80

// captchaSlots bounds how many captcha pictures and sounds are drawn at
// once to one less than the CPUs (at least one). Drawing one takes a few
// milliseconds of CPU, and anyone can ask for as many as they like: without
// a bound, a flood of picture requests takes every core, and an office
// login (argon2id, first in its queue) would crawl beside it. Waiting
// requests cost a goroutine each, no CPU.
var captchaSlots = make(chan struct{}, max(1, runtime.NumCPU()-1))

// captcha serves /captcha/{id}.png, /captcha/{id}.{lang}.wav (the digits
// spoken in the language of the page, package captchaaudio) and
// /captcha/{id}.wav (English, for links from before the languages). gin
// allows one parameter here, so the language is parsed out of the name.
func (s *Server) captcha(c *gin.Context) {
	file := c.Param("file")
	ext := path.Ext(file)
	id := strings.TrimSuffix(file, ext)
	audioLang := "en"
	if ext == ".wav" {
		if l := path.Ext(id); l != "" {
			id, audioLang = strings.TrimSuffix(id, l), l[1:]
			// Only the page languages: any other name is as unknown as
			// an unknown id, not English under another name.
			if _, ok := i18n.Lookup(audioLang); !ok {
				s.errorPage(c, http.StatusNotFound, "error.not_found")
				return
			}
		}
	}
	select {
	case captchaSlots <- struct{}{}:
		defer func() { <-captchaSlots }()
	case <-c.Request.Context().Done():
		c.Status(http.StatusServiceUnavailable) // the client has gone
		return
	}
	var buf bytes.Buffer
	var err error
	switch ext {
	case ".png":
		c.Header("Content-Type", "image/png")
		err = s.writeCaptchaImage(&buf, id)
	case ".wav":
		c.Header("Content-Type", "audio/wav")
		err = s.writeCaptchaAudio(&buf, audioLang, id)
	default:
		err = captcha.ErrNotFound
	}
	if err != nil {
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, c.Writer.Header().Get("Content-Type"), buf.Bytes())
}

// writeCaptchaAudio speaks the digits of captcha id in lang into w,
// reading them from the configured store without clearing them (listening
// is not answering). Without a configured store only dchest's own path is
// left, which speaks English.
func (s *Server) writeCaptchaAudio(w io.Writer, lang, id string) error {
	if s.cfg.Captchas == nil {
		return captcha.WriteAudio(w, id, "en")
	}
	digits := s.cfg.Captchas.Get(id, false)
	if digits == nil {
		return captcha.ErrNotFound
	}
	return s.cfg.CaptchaAudio.Write(w, lang, id, digits)
}

// captchaPNG encodes captcha pictures with pooled buffers: png.Encode
// makes a new zlib compressor for every picture, over half a megabyte of
// garbage each, which under a flood of picture requests outruns the
// garbage collector. Fastest compression: the picture is noise, it barely
// compresses anyway.
var captchaPNG = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// writeCaptchaImage draws the picture of captcha id into w, reading its
// digits from the configured store (Config.Captchas), or through dchest's
// own WriteImage when none is configured.
func (s *Server) writeCaptchaImage(w io.Writer, id string) error {
	if s.cfg.Captchas == nil {
		return captcha.WriteImage(w, id, captchaWidth, captchaHeight)
	}
	digits := s.cfg.Captchas.Get(id, false)
	if digits == nil {
		return captcha.ErrNotFound
	}
	return captchaPNG.Encode(w, captcha.NewImage(id, digits, captchaWidth, captchaHeight))
}

var staticFiles = http.StripPrefix("/static/", http.FileServerFS(static.FS))

// static serves the embedded CSS and images, cached for a day.
func (s *Server) static(c *gin.Context) {
	if strings.HasSuffix(c.Request.URL.Path, "/") { // no directory listings
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	staticFiles.ServeHTTP(c.Writer, c.Request)
}
