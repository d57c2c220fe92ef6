package job

import (
	"encoding/json"
	"fmt"

	"miniais/api/wire"
	"miniais/cluster"
)

// Spec is what the proxy asks every target to run: the body (JSON) of a
// job-start message over the transport.
type Spec struct {
	// ID and Kind name the job.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Bck is the bucket the job reads (the source of a copy or rename).
	Bck cluster.Bucket `json:"bck,omitzero"`
	// Dst is the destination of a copy or rename.
	Dst cluster.Bucket `json:"dst,omitzero"`
	// Prefix restricts a copy to the names that start with it.
	Prefix string `json:"prefix,omitempty"`
	// Template and ObjNames select the objects of a multi-object job
	// (exactly one of them).
	Template string   `json:"template,omitempty"`
	ObjNames []string `json:"objnames,omitempty"`
	// DryRun makes a copy count what it would copy and write nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// BMDVersion is the bucket metadata version the job needs (the one
	// that created the destination, or that changed a make-n-copies
	// bucket's number of copies).
	BMDVersion int64 `json:"bmd,omitempty"`
}

// Desc returns the job description of s.
func (s *Spec) Desc() Desc {
	d := Desc{ID: s.ID, Kind: s.Kind, Bck: s.Bck}
	switch s.Kind {
	case wire.KindCopyBck, wire.KindMoveBck:
		d.Src, d.Dst = s.Bck, s.Dst
	case wire.KindRebalance:
		d.Bck = cluster.Bucket{}
	}
	if s.DryRun {
		d.CtlMsg = "dry-run"
	}
	if s.Prefix != "" {
		d.CtlMsg = join(d.CtlMsg, "prefix "+s.Prefix)
	}
	if s.Template != "" {
		d.CtlMsg = join(d.CtlMsg, "template "+s.Template)
	}
	if n := len(s.ObjNames); n > 0 {
		d.CtlMsg = join(d.CtlMsg, fmt.Sprintf("%d names", n))
	}
	return d
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// Validate checks s: a valid ID, a known kind and the buckets and
// selection that kind needs. Errors wrap cluster.ErrBadRequest or
// cluster.ErrBadName.
func (s *Spec) Validate() error {
	if !ValidID(s.ID) {
		return cluster.Errorf(cluster.ErrBadRequest, "malformed job ID %q", s.ID)
	}
	switch s.Kind {
	case wire.KindRebalance:
		return nil
	case wire.KindDeleteListRange:
		if (s.Template != "") == (len(s.ObjNames) > 0) {
			return cluster.Errorf(cluster.ErrBadRequest, "%s: give either a template or object names", s.Kind)
		}
		if s.Template != "" {
			if _, err := ParseTemplate(s.Template); err != nil {
				return cluster.Errorf(cluster.ErrBadRequest, "%s: %v", s.Kind, err)
			}
		}
		for _, n := range s.ObjNames {
			if err := cluster.ValidateObjectName(n); err != nil {
				return err
			}
		}
		return s.Bck.Validate()
	case wire.KindMakeNCopies:
		return s.Bck.Validate()
	case wire.KindCopyBck, wire.KindMoveBck:
		if err := s.Bck.Validate(); err != nil {
			return err
		}
		if err := s.Dst.Validate(); err != nil {
			return err
		}
		if s.Bck == s.Dst {
			return cluster.Errorf(cluster.ErrBadRequest, "%s: %s onto itself", s.Kind, s.Bck)
		}
		return nil
	}
	return cluster.Errorf(cluster.ErrBadRequest, "unknown job kind %q", s.Kind)
}

// Encode returns s as JSON.
func (s *Spec) Encode() ([]byte, error) { return json.Marshal(s) }

// DecodeSpec decodes and validates a Spec.
func DecodeSpec(b []byte) (*Spec, error) {
	s := &Spec{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed job spec: %v", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
