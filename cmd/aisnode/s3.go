package main

import (
	"fmt"

	"miniais/proxy"
	"miniais/s3"
	"miniais/s3/sigv4"
)

// s3Config is the proxy's S3 gateway configuration from the flags: the
// addressing (-s3_root, -s3_domain) and the Signature V4 verifier, with
// the access keys of -s3_credentials (none: the gateway is open).
func s3Config(cfg Config) (proxy.S3Config, error) {
	v := &sigv4.Verifier{Region: cfg.S3Region}
	if cfg.S3Credentials != "" {
		creds, err := sigv4.LoadCredentials(cfg.S3Credentials)
		if err != nil {
			return proxy.S3Config{}, fmt.Errorf("-s3_credentials: %w", err)
		}
		v.Creds = creds
	} else if cfg.S3Region == "" {
		v.Region = sigv4.AnyRegion // open: a client's region does not matter
	}
	return proxy.S3Config{
		Addressing: s3.Addressing{Root: cfg.S3Root, Domain: cfg.S3Domain},
		Verifier:   v,
		Region:     cfg.S3Region,
	}, nil
}
