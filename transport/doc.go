// Package transport carries every node-to-node message of miniais: proxy <->
// target control traffic and target -> target object streams, over
// persistent TCP connections, with the W3C trace context of the sender in
// every frame so that one trace crosses every hop.
//
// A Server dispatches requests to a Handler registered per Kind; a Client
// sends them with Call (small in-memory body, request/response) or Send (a
// payload of known size streamed from an io.Reader, with backpressure).
//
// # Frame layout
//
// Every message, request or reply, is one frame:
//
//	offset  size  field
//	0       3     magic "AIS" (0x41 0x49 0x53)
//	3       1     frame format version, 0x01
//	4       4     N, length of the header in bytes, big-endian uint32, 1 <= N <= MaxHeaderSize
//	8       N     Header, a msgpack map with short string keys (header_gen.go):
//	                "k" Kind (uint), "i" ID (uint), "r" Reply (bool), "st" Stream (bool),
//	                "s" Sender, "b" Bucket, "o" Object (str), "z" Size (int),
//	                "c" Checksum (map {"t": type, "v": value}), "v" Version (str),
//	                "x" Opaque (bin), "e" Error, "ek" ErrKind (str),
//	                "t" Trace (map str->str, at most 64 entries);
//	              empty fields other than "k", "i" and "c" are omitted, unknown keys skipped
//	8+N     Size  payload: exactly Header.Size bytes (absent when Size is 0)
//
// Frames follow each other back to back. A reply has Reply set and the ID of
// its request; replies on one connection may come in any order.
//
// # Handshake
//
// A connection starts with a handshake before its first frame. Node IDs are
// at most 255 bytes; nonces are 32 random bytes.
//
//	server -> client: "AIS" 0x81, server nonce [32], len [1], server node ID
//	client -> server: "AIS" 0x82, client nonce [32], len [1], client node ID,
//	                  client MAC [32]
//	server -> client: "AIS" 0x83, verdict [1] (0 = accepted, 1 = refused),
//	                  server MAC [32]
//
// With a cluster secret (Config.Secret), the client MAC is HMAC-SHA256(secret,
// "miniais/transport client\x00" || server nonce || client nonce ||
// len(client ID) || client ID || len(server ID) || server ID), and the server
// MAC is the same with "server" in place of "client". Each side checks the
// other's MAC, so both prove they know the secret without sending it, and the
// nonces make a recorded handshake useless. A peer that fails is dropped and
// logged; on an authenticated connection every request's Sender must equal
// the handshake's node ID. Without a secret the MACs are zero and unchecked.
// The frames themselves are neither encrypted nor MACed: the handshake keeps
// out processes that are not cluster members, not an on-path attacker.
//
// # Connections
//
// A Client keeps per peer address one control connection, on which any
// number of Calls are in flight at once (matched by ID), and a small pool of
// stream connections that carry one Send (or a Call with a body over 64 KiB)
// at a time, so that a large object never delays control traffic. A broken
// connection fails all of its in-flight calls at once with ErrConnection; the
// next call re-dials, with exponential backoff while dialling keeps failing.
//
// On the server, requests with payloads up to 64 KiB are read into memory and
// their handlers run concurrently (up to Config.MaxInflight per connection);
// a larger payload is streamed to its handler straight from the connection
// (Message.Body reads from the connection's bufio.Reader; the transport
// discards what the handler leaves unread before reading the next frame).
//
// # Limits and errors
//
// A header over MaxHeaderSize, a payload over the kind's limit (MaxPayload,
// KindMaxPayload), a truncated frame, a bad magic or version, or an
// undecodable header closes that connection and is logged; other connections
// are unaffected. The decoder allocates only after checking a length against
// its limit. A handler's error travels back as Header.Error and
// Header.ErrKind and comes out of Call/Send as a *RemoteError that matches
// the cluster sentinel with errors.Is.
//
// # Tracing
//
// Call and Send start a client span "transport.send <kind>" (both wait for
// the reply) and inject its context into Header.Trace with the configured
// propagator; the Server extracts it and runs the handler in a server span
// "transport.recv <kind>" that is the sender's child. Both carry the RPC
// conventions (rpc.system.name and rpc.system "ais-transport", rpc.method
// the kind), server.address/port (sender) or network.peer.address
// (receiver), and, on failure, error.type: the error kind. A remote error of
// a 4xx kind does not mark the receiving span as an error (the request's
// fault, not the server's); a sender that expects it says so with
// tracing.ExpectErrors. Keepalives and pings outside a sampled operation
// make no span at all, on either side. Config.Observer, when set, is told of
// every request sent and served (metrics).
package transport
