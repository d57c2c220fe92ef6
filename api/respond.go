package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"miniais/cluster"
)

// WriteJSON writes v as a 200 JSON reply with its Content-Length.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// ErrMethod returns the error for a method that the path does not support
// (it wraps cluster.ErrBadRequest).
func ErrMethod(r *http.Request) error {
	return cluster.Errorf(cluster.ErrBadRequest, "method %s is not supported on %s", r.Method, r.URL.Path)
}

// MaxActionBody bounds the JSON action message of a request.
const MaxActionBody = 64 << 10

// ReadAction decodes the optional JSON action message in r's body (none
// gives the zero message). A "value" of null is dropped. Errors wrap
// cluster.ErrBadRequest, or cluster.ErrTooLarge over MaxActionBody.
func ReadAction(r *http.Request) (ActionMsg, error) {
	var msg ActionMsg
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxActionBody+1))
	if err != nil {
		return msg, cluster.Errorf(cluster.ErrBadRequest, "read request body: %v", err)
	}
	if len(b) > MaxActionBody {
		return msg, cluster.Errorf(cluster.ErrTooLarge, "action message over %d bytes", MaxActionBody)
	}
	if len(b) == 0 {
		return msg, nil
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		return msg, cluster.Errorf(cluster.ErrBadRequest, "malformed action message: %v", err)
	}
	if string(msg.Value) == "null" {
		msg.Value = nil
	}
	return msg, nil
}

// ListMsg decodes the message's value as a list-objects message (no value
// gives the zero one). The error wraps cluster.ErrBadRequest.
func (m ActionMsg) ListMsg() (ListObjsMsg, error) {
	var lso ListObjsMsg
	if len(m.Value) == 0 {
		return lso, nil
	}
	if err := json.Unmarshal(m.Value, &lso); err != nil {
		return lso, cluster.Errorf(cluster.ErrBadRequest, "malformed list message: %v", err)
	}
	return lso, nil
}

// WriteListing writes one page of an object listing, in msgpack when the
// request accepts it, else in JSON.
func WriteListing(w http.ResponseWriter, r *http.Request, res *LsoResult) error {
	if r.Header.Get("Accept") != ContentMsgpack {
		WriteJSON(w, res)
		return nil
	}
	b, err := res.MarshalMsg(nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ContentMsgpack)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	return nil
}
