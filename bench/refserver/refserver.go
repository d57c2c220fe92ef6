// Package refserver is the REFERENCE SERVER of miniais's benchmarks, not
// part of miniais: the simplest single-process Go HTTP object server that
// the data path is measured against. It writes each PUT body to a file
// (work file, optional fsync, rename into place, optional fsync of the
// directory: the same durability policy as an aisnode target) and serves
// GETs from files with http.ServeContent (sendfile). It has no cluster, no
// metadata, no checksums, no tracing and no logging.
//
// It speaks just enough of the v1 API for the api client and the load
// generator: PUT, GET, HEAD and DELETE of /v1/objects/B/NAME, HEAD and POST
// of /v1/buckets/B (always present), GET /v1/buckets/B (an empty
// listing), GET /v1/health. Objects are spread
// by the XXH64 of "BUCKET/NAME" over the directories and 256
// subdirectories in each (so that concurrent creates do not all contend
// for one directory's lock), stored under their escaped names; a PUT
// writes a work file in the same subdirectory and renames it into place.
package refserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api/wire"
)

// Config configures a Server.
type Config struct {
	// Dirs hold the objects (at least one; created when missing).
	Dirs []string
	// Fsync syncs every object file and its directory before a PUT
	// answers (aisnode -fsync always).
	Fsync bool
}

// Server is the reference object server; it is an http.Handler, safe for
// concurrent use.
type Server struct {
	cfg Config
}

// New prepares the directories and returns the server.
func New(cfg Config) (*Server, error) {
	if len(cfg.Dirs) == 0 {
		return nil, errors.New("refserver: no directories")
	}
	for _, d := range cfg.Dirs {
		for i := range 256 {
			if err := os.MkdirAll(filepath.Join(d, fmt.Sprintf("%02x", i)), 0o755); err != nil {
				return nil, fmt.Errorf("refserver: %w", err)
			}
		}
	}
	return &Server{cfg: cfg}, nil
}

// ServeHTTP serves the subset of the v1 API described in the package doc.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == wire.PathHealth:
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(p, wire.PathBuckets+"/"):
		// Every bucket exists; its listing is empty.
		w.Header().Set(wire.HdrBucketProps, "{}")
		w.Header().Set("Content-Type", wire.ContentJSON)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			io.WriteString(w, "{}")
		}
	case strings.HasPrefix(p, wire.PathObjects+"/"):
		s.object(w, r, strings.TrimPrefix(p, wire.PathObjects+"/"))
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// path returns the file of object key ("BUCKET/NAME") and its directory.
func (s *Server) path(key string) (string, string) {
	h := xxhash.ChecksumString64(key)
	d := filepath.Join(s.cfg.Dirs[h%uint64(len(s.cfg.Dirs))], fmt.Sprintf("%02x", byte(h>>56)))
	return filepath.Join(d, url.PathEscape(key)), d
}

func (s *Server) object(w http.ResponseWriter, r *http.Request, key string) {
	file, dir := s.path(key)
	switch r.Method {
	case http.MethodPut:
		if err := s.put(r.Body, file, dir); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		f, err := os.Open(file)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", time.Time{}, f)
	case http.MethodDelete:
		if err := os.Remove(file); err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// put writes body to a work file and renames it to file.
func (s *Server) put(body io.Reader, file, dir string) error {
	f, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(f, body)
	if err == nil && s.cfg.Fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if s.cfg.Fsync {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
	return nil
}
