package serve

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// TLSFiles turns TLS on for Serve and ServeGRPC (Config.TLS): the server's certificate chain and key in PEM
// files and, for mutual TLS, the CA bundle that client certificates must chain to. The files are re-read
// when one of them changes (a new inode or modification time), so that a renewed certificate, such as a
// Kubernetes Secret whose files are swapped by renaming a symlink, is served without a restart.
type TLSFiles struct {
	CertFile string // PEM certificate chain, the server's certificate first
	KeyFile  string // PEM private key of that certificate
	// ClientCAFile, when set, asks every client for a certificate and refuses the handshake of one that
	// sends none or one that does not chain to these CAs (mutual TLS).
	ClientCAFile string
	// CheckInterval is how often, at most, a handshake checks the files for a change (default 1s): a stat
	// of each file, so that handshakes stay cheap.
	CheckInterval time.Duration
}

func (f *TLSFiles) enabled() bool { return f != nil && (f.CertFile != "" || f.KeyFile != "") }

// certReloader hands out the current certificate and client CAs, re-reading the files when they change.
// A reload that fails (a half-written file, a key that does not match) keeps the previous material and
// logs why, once per change.
type certReloader struct {
	files TLSFiles
	logf  func(format string, args ...any)
	now   func() time.Time

	mu        sync.Mutex
	checked   time.Time
	stamps    []os.FileInfo // of files.paths(), at the last load attempt (sameVersion tells a change)
	cert      *tls.Certificate
	clientCAs *x509.CertPool
}

func newCertReloader(files TLSFiles, logf func(string, ...any)) (*certReloader, error) {
	if files.CertFile == "" || files.KeyFile == "" {
		return nil, fmt.Errorf("TLS needs both a certificate file and a key file (got certificate %q, key %q)", files.CertFile, files.KeyFile)
	}
	if files.CheckInterval <= 0 {
		files.CheckInterval = time.Second
	}
	r := &certReloader{files: files, logf: logf, now: time.Now}
	stamps, err := r.stampFiles()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamps); err != nil {
		return nil, err
	}
	r.checked = r.now()
	return r, nil
}

func (r *certReloader) paths() []string {
	paths := []string{r.files.CertFile, r.files.KeyFile}
	if r.files.ClientCAFile != "" {
		paths = append(paths, r.files.ClientCAFile)
	}
	return paths
}

// stampFiles stats the files. os.Stat follows symlinks, so a Secret swapped by renaming a link shows as
// another file (sameVersion compares identities, sizes and modification times).
func (r *certReloader) stampFiles() ([]os.FileInfo, error) {
	paths := r.paths()
	stamps := make([]os.FileInfo, len(paths))
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		stamps[i] = st
	}
	return stamps, nil
}

// load reads the files and, if they all parse, makes them current. stamps are remembered either way, so
// that a broken file is reported once rather than on every handshake.
func (r *certReloader) load(stamps []os.FileInfo) error {
	r.stamps = stamps
	cert, err := tls.LoadX509KeyPair(r.files.CertFile, r.files.KeyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s with key %s: %w", r.files.CertFile, r.files.KeyFile, err)
	}
	var pool *x509.CertPool
	if r.files.ClientCAFile != "" {
		pem, err := os.ReadFile(r.files.ClientCAFile)
		if err != nil {
			return fmt.Errorf("TLS client CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TLS client CA %s: no PEM certificate in it", r.files.ClientCAFile)
		}
	}
	r.cert, r.clientCAs = &cert, pool
	return nil
}

// current returns the material to use now, first reloading it if the interval passed and a file changed.
func (r *certReloader) current() (*tls.Certificate, *x509.CertPool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= r.files.CheckInterval {
		r.checked = now
		stamps, err := r.stampFiles()
		switch {
		case err != nil:
			r.logf("%v; still serving the previous certificate", err)
		case !sameStamps(stamps, r.stamps):
			if err := r.load(stamps); err != nil {
				r.logf("reloading %v; still serving the previous certificate", err)
			} else {
				r.logf("TLS: reloaded %s (serial %s)", r.files.CertFile, serialOf(r.cert))
			}
		}
	}
	return r.cert, r.clientCAs
}

func sameStamps(a, b []os.FileInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameVersion(a[i], b[i]) {
			return false
		}
	}
	return true
}

func serialOf(c *tls.Certificate) string {
	if c.Leaf != nil {
		return c.Leaf.SerialNumber.String()
	}
	return "?"
}

// config is the server side TLS configuration for one protocol (nextProtos: its ALPN names). Each
// handshake gets the current certificate and client CAs through GetConfigForClient.
func (r *certReloader) config(nextProtos []string) *tls.Config {
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: nextProtos}
	if r.files.ClientCAFile != "" {
		base.ClientAuth = tls.RequireAndVerifyClientCert
	}
	cfg := base.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cert, cas := r.current()
		if cert == nil {
			return nil, errors.New("no TLS certificate loaded")
		}
		c := base.Clone()
		c.Certificates = []tls.Certificate{*cert}
		c.ClientCAs = cas
		return c, nil
	}
	return cfg
}
