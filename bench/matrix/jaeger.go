package matrix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"miniais/internal/proc"
)

// jaegerProc is a Jaeger all-in-one process with in-memory storage on free
// 127.0.0.1 ports.
type jaegerProc struct {
	*proc.Process
	otlp string // OTLP gRPC host:port
}

func startJaeger(ctx context.Context, bin, dir string) (*jaegerProc, error) {
	if bin == "" {
		return nil, errNoJaeger
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoJaeger, err)
	}
	ports := make([]string, 11)
	for i := range ports {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		ports[i] = a
	}
	args := []string{
		"--collector.otlp.enabled=true",
		"--collector.otlp.grpc.host-port=" + ports[0],
		"--collector.otlp.http.host-port=" + ports[1],
		"--query.http-server.host-port=" + ports[2],
		"--query.grpc-server.host-port=" + ports[3],
		"--admin.http.host-port=" + ports[4],
		"--collector.grpc-server.host-port=" + ports[5],
		"--collector.http-server.host-port=" + ports[6],
		"--http-server.host-port=" + ports[7],
		"--processor.jaeger-compact.server-host-port=" + ports[8],
		"--processor.jaeger-binary.server-host-port=" + ports[9],
		"--processor.zipkin-compact.server-host-port=" + ports[10],
		"--memory.max-traces=100000",
	}
	p, err := startProcess("jaeger", bin, args, []string{"SPAN_STORAGE_TYPE=memory"}, filepath.Join(dir, "jaeger.log"))
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+ports[4]+"/", 60*time.Second, p); err != nil {
		stopProcess(p)
		return nil, err
	}
	return &jaegerProc{Process: p, otlp: ports[0]}, nil
}
