package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"time"
)

// Handshake message types (byte 3 of a handshake message; frames use
// protoVersion there).
const (
	hsServerHello = 0x81
	hsClientHello = 0x82
	hsVerdict     = 0x83

	nonceLen = 32
	macLen   = sha256.Size

	verdictOK      = 0
	verdictRefused = 1
)

// handshake holds what both sides know after the hellos.
type handshake struct {
	secret   []byte
	nonceS   [nonceLen]byte
	nonceC   [nonceLen]byte
	serverID string
	clientID string
}

// mac returns HMAC-SHA256(secret, role || nonceS || nonceC || len(clientID)
// || clientID || len(serverID) || serverID); all zeros when auth is off.
func (h *handshake) mac(role string) [macLen]byte {
	var out [macLen]byte
	if len(h.secret) == 0 {
		return out
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(role))
	m.Write(h.nonceS[:])
	m.Write(h.nonceC[:])
	m.Write([]byte{byte(len(h.clientID))})
	m.Write([]byte(h.clientID))
	m.Write([]byte{byte(len(h.serverID))})
	m.Write([]byte(h.serverID))
	copy(out[:], m.Sum(nil))
	return out
}

func (h *handshake) check(role string, got []byte) bool {
	if len(h.secret) == 0 {
		return true
	}
	want := h.mac(role)
	return hmac.Equal(want[:], got)
}

const (
	roleClient = "miniais/transport client\x00"
	roleServer = "miniais/transport server\x00"
)

func checkID(id string) error {
	if len(id) > 255 {
		return fmt.Errorf("transport: node ID longer than 255 bytes")
	}
	return nil
}

func readHello(r io.Reader, typ byte) (nonce [nonceLen]byte, id string, err error) {
	var fixed [4 + nonceLen + 1]byte
	if _, err = io.ReadFull(r, fixed[:]); err != nil {
		return nonce, "", noEOF(err)
	}
	if fixed[0] != magic0 || fixed[1] != magic1 || fixed[2] != magic2 || fixed[3] != typ {
		return nonce, "", fmt.Errorf("%w: bad handshake magic %x", ErrFrame, fixed[:4])
	}
	copy(nonce[:], fixed[4:])
	idb := make([]byte, fixed[len(fixed)-1]) // at most 255 bytes
	if _, err = io.ReadFull(r, idb); err != nil {
		return nonce, "", noEOF(err)
	}
	return nonce, string(idb), nil
}

func appendHello(dst []byte, typ byte, nonce [nonceLen]byte, id string) []byte {
	dst = append(dst, magic0, magic1, magic2, typ)
	dst = append(dst, nonce[:]...)
	dst = append(dst, byte(len(id)))
	return append(dst, id...)
}

// serverHandshake runs the server side on a fresh connection and returns the
// client's node ID. On an authentication failure it tells the client, then
// returns an error wrapping ErrAuth; the caller closes the connection.
func serverHandshake(nc net.Conn, secret []byte, id string, timeout time.Duration) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	h := handshake{secret: secret, serverID: id}
	if _, err := rand.Read(h.nonceS[:]); err != nil {
		return "", err
	}
	if _, err := nc.Write(appendHello(nil, hsServerHello, h.nonceS, id)); err != nil {
		return "", fmt.Errorf("write hello: %w", err)
	}
	var err error
	if h.nonceC, h.clientID, err = readHello(nc, hsClientHello); err != nil {
		return "", fmt.Errorf("read client hello: %w", err)
	}
	var mac [macLen]byte
	if _, err := io.ReadFull(nc, mac[:]); err != nil {
		return "", fmt.Errorf("read client hello: %w", noEOF(err))
	}
	verdict := append([]byte(nil), magic0, magic1, magic2, hsVerdict, verdictOK)
	ok := h.check(roleClient, mac[:])
	if !ok {
		verdict[4] = verdictRefused
		verdict = append(verdict, make([]byte, macLen)...)
	} else {
		m := h.mac(roleServer)
		verdict = append(verdict, m[:]...)
	}
	if _, err := nc.Write(verdict); err != nil {
		return "", fmt.Errorf("write verdict: %w", err)
	}
	if !ok {
		return h.clientID, fmt.Errorf("%w: client %q does not know the cluster secret", ErrAuth, h.clientID)
	}
	return h.clientID, nc.SetDeadline(time.Time{})
}

// clientHandshake runs the client side and returns the server's node ID.
// Deadlines are the caller's.
func clientHandshake(nc net.Conn, secret []byte, id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	h := handshake{secret: secret, clientID: id}
	var err error
	if h.nonceS, h.serverID, err = readHello(nc, hsServerHello); err != nil {
		return "", fmt.Errorf("read server hello: %w", err)
	}
	if _, err := rand.Read(h.nonceC[:]); err != nil {
		return "", err
	}
	msg := appendHello(nil, hsClientHello, h.nonceC, id)
	m := h.mac(roleClient)
	if _, err := nc.Write(append(msg, m[:]...)); err != nil {
		return "", fmt.Errorf("write hello: %w", err)
	}
	var verdict [5 + macLen]byte
	if _, err := io.ReadFull(nc, verdict[:]); err != nil {
		return "", fmt.Errorf("read verdict: %w", noEOF(err))
	}
	if verdict[0] != magic0 || verdict[1] != magic1 || verdict[2] != magic2 || verdict[3] != hsVerdict {
		return "", fmt.Errorf("%w: bad handshake magic %x", ErrFrame, verdict[:4])
	}
	if verdict[4] != verdictOK {
		return h.serverID, fmt.Errorf("%w: refused by server %q", ErrAuth, h.serverID)
	}
	if !h.check(roleServer, verdict[5:]) {
		return h.serverID, fmt.Errorf("%w: server %q does not know the cluster secret", ErrAuth, h.serverID)
	}
	return h.serverID, nil
}
