// Package tests is the integration suite of miniais: every test starts real
// aisnode processes on 127.0.0.1 with their own temporary mountpaths (package
// harness), talks to them through the api client or the ais binary, and, for
// tracing, reads the traces back from a real Jaeger over its HTTP API.
package tests
