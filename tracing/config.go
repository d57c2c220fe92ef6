package tracing

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the configuration and of the export pipeline.
const (
	// DefaultServicePrefix is the default of Config.ServiceNamePrefix.
	DefaultServicePrefix = "aistore"
	// DefaultQueueSize is the number of ended spans that may wait for export
	// when Config.QueueSize is zero.
	DefaultQueueSize = 2048
	// DefaultBatchSize is the largest batch sent to the collector in one
	// request when Config.BatchSize is zero.
	DefaultBatchSize = 512
	// DefaultPort is the port of an endpoint that names none (OTLP gRPC).
	DefaultPort = "4317"

	// FlushInterval is the longest time an ended span waits in a partly
	// filled batch.
	FlushInterval = 2 * time.Second
	// ExportTimeout bounds one export request, retries included; a batch not
	// accepted within it is dropped and counted.
	ExportTimeout = 10 * time.Second
	// DropLogInterval is the shortest interval between two log lines that
	// report dropped spans.
	DropLogInterval = 30 * time.Second

	// DefaultAttributeValueLimit is the longest string attribute value a
	// span keeps when Config.AttributeValueLimit is zero; longer values are
	// cut to it (in characters).
	DefaultAttributeValueLimit = 2048
	// DefaultAttributeCountLimit is the most attributes (and the most
	// events, and links) a span keeps when Config.AttributeCountLimit is
	// zero.
	DefaultAttributeCountLimit = 64
	// DefaultBatchBytes bounds the estimated encoded size of one export
	// request when Config.BatchBytes is zero: under the 4 MiB that gRPC
	// servers (Jaeger, the OpenTelemetry Collector) accept by default.
	DefaultBatchBytes = 3 << 20
	// DefaultTrustedRate is the most traces per second a node starts
	// because a trusted client asked for them (Config.TrustedRate zero).
	DefaultTrustedRate = 100
	// DefaultTailSpans bounds the spans the tail rule holds when
	// Config.Tail.MaxSpans is zero.
	DefaultTailSpans = 8192
)

// Environment variables read by FromEnv.
const (
	EnvEndpoint       = "AIS_TRACING_ENDPOINT"
	EnvServicePrefix  = "AIS_TRACING_SERVICE_PREFIX"
	EnvSampling       = "AIS_TRACING_SAMPLING_PROBABILITY"
	envOTLPEndpoint   = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEP   = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPHeaders    = "OTEL_EXPORTER_OTLP_HEADERS"
	envOTLPTracesHdrs = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	envOTLPInsecure   = "OTEL_EXPORTER_OTLP_INSECURE"
	envOTLPTracesIns  = "OTEL_EXPORTER_OTLP_TRACES_INSECURE"
	envServiceName    = "OTEL_SERVICE_NAME"
	envSDKDisabled    = "OTEL_SDK_DISABLED"
	// EnvTrustedClients lists the trusted clients (Config.TrustedClients),
	// comma-separated; "none" trusts none.
	EnvTrustedClients = "AIS_TRACING_TRUSTED_CLIENTS"
	// EnvTailLatency turns the tail rule on with this latency threshold
	// (Config.Tail), e.g. "250ms"; "0" or "off" turns it off.
	EnvTailLatency = "AIS_TRACING_TAIL_LATENCY"
)

// ErrConfig is wrapped by every configuration error that Validate, FromEnv
// and New report.
var ErrConfig = errors.New("tracing: invalid configuration")

// Probability is a sampling ratio in [0,1]. In JSON it is a number or a
// string holding a number ("0.25"); the empty string is 1.0, as AIStore
// reads it.
type Probability float64

// UnmarshalJSON accepts a JSON number or a JSON string holding a number; ""
// is 1.0 (AIStore's default for an unset value). The range is checked by
// Config.Validate.
func (p *Probability) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("%w: sampler_probability: %w", ErrConfig, err)
		}
		s = strings.TrimSpace(str)
		if s == "" {
			*p = 1
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%w: sampler_probability %q: not a number", ErrConfig, s)
	}
	*p = Probability(f)
	return nil
}

// ExporterAuth names a token that is sent with every export request: the
// content of TokenFile (surrounding white space trimmed) in the gRPC metadata
// header TokenHeader (for example "authorization", with the file holding
// "Bearer <token>"). Both are set or neither.
type ExporterAuth struct {
	TokenHeader string `json:"token_header"`
	TokenFile   string `json:"token_file"`
}

// Config configures tracing. Start from DefaultConfig before decoding JSON
// into it: the zero value has sampler_probability 0, which samples no root
// span.
type Config struct {
	// Enabled turns tracing on (default false).
	Enabled bool `json:"enabled"`
	// ExporterEndpoint is the OTLP gRPC collector: "host:port",
	// "http://host:port" or "https://host:port" (default "", required when
	// enabled unless a test supplies Options.Exporter).
	ExporterEndpoint string `json:"exporter_endpoint"`
	// ServiceNamePrefix makes the service names "<prefix>-proxy",
	// "<prefix>-target" and "<prefix>-cli" (default "aistore").
	ServiceNamePrefix string `json:"service_name_prefix"`
	// Attributes are added to the resource of every span (default none).
	Attributes map[string]string `json:"attributes"`
	// SamplerProbability is the ratio of root spans sampled (default 1.0).
	SamplerProbability Probability `json:"sampler_probability"`
	// SkipVerify skips the TLS certificate check of an https:// endpoint
	// (default false). It never turns TLS off.
	SkipVerify bool `json:"skip_verify"`
	// ExporterAuth names the token sent with every export (default none).
	ExporterAuth ExporterAuth `json:"exporter_auth"`
	// QueueSize bounds the ended spans waiting for export; 0 means
	// DefaultQueueSize.
	QueueSize int `json:"queue_size,omitempty"`
	// BatchSize bounds the spans of one export request; 0 means
	// DefaultBatchSize.
	BatchSize int `json:"batch_size,omitempty"`
	// BatchBytes bounds the estimated encoded size of one export request:
	// a batch that would be larger is sent in several requests, so that
	// one request over the collector's gRPC limit does not lose every
	// span in it. 0 means DefaultBatchBytes.
	BatchBytes int `json:"batch_bytes,omitempty"`
	// AttributeValueLimit cuts string attribute values (and event
	// attributes, error messages included) to this many characters; 0
	// means DefaultAttributeValueLimit.
	AttributeValueLimit int `json:"attribute_value_length_limit,omitempty"`
	// AttributeCountLimit bounds the attributes, events and links of one
	// span (the rest are dropped and counted by the SDK); 0 means
	// DefaultAttributeCountLimit.
	AttributeCountLimit int `json:"attribute_count_limit,omitempty"`

	// TrustedClients are the clients (IP addresses or CIDR prefixes, e.g.
	// "127.0.0.0/8", "::1") whose "Ais-Trace-Force: true" and sampled
	// "traceparent" a node honours, at most TrustedRate traces per second.
	// Requests of other clients start a trace of their own, sampled by
	// the ratio, linked to the client's span context. Cluster members are
	// trusted by proof, not by address (see the package doc). Default:
	// none; the playground trusts loopback.
	TrustedClients []string `json:"trusted_clients,omitempty"`
	// TrustedRate is the most traces per second a node starts because a
	// trusted client forced or sampled them; 0 means DefaultTrustedRate.
	TrustedRate float64 `json:"trusted_rate,omitempty"`

	// Tail is the tail rule: keep the traces of failed and slow requests
	// that the ratio did not sample (off by default).
	Tail TailConfig `json:"tail"`

	// ServiceName, when set, replaces "<prefix>-<role>" as the service name.
	// It comes from OTEL_SERVICE_NAME only and is not part of the JSON form.
	ServiceName string `json:"-"`
	// Headers are extra gRPC metadata sent with every export. They come from
	// OTEL_EXPORTER_OTLP_(TRACES_)HEADERS only and are not part of the JSON
	// form.
	Headers map[string]string `json:"-"`
}

// TailConfig is the tail rule (see the package doc). With Latency zero the
// rule is off.
type TailConfig struct {
	// Latency is the threshold: a request that takes at least this long
	// is kept, as is one that fails. Zero turns the rule off. In JSON a
	// duration string ("250ms") or nanoseconds.
	Latency Duration `json:"latency"`
	// MaxSpans bounds the spans held while their requests run; beyond it
	// new spans are not held (counted). 0 means DefaultTailSpans.
	MaxSpans int `json:"max_spans,omitempty"`
}

// Enabled tells whether the tail rule is on.
func (t TailConfig) Enabled() bool { return t.Latency > 0 }

// Duration is a time.Duration spelt in JSON as a string ("250ms") or as
// nanoseconds.
type Duration time.Duration

// UnmarshalJSON accepts "250ms"-style strings ("" is zero) and numbers
// (nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if strings.TrimSpace(s) == "" {
			*d = 0
			return nil
		}
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%w: duration %q: %w", ErrConfig, s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%w: duration: want a string like \"250ms\" or nanoseconds", ErrConfig)
	}
	*d = Duration(n)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON decodes the JSON form of Config on top of c. It also takes
// AIStore's documented misspelling "sampler_probablity" when
// "sampler_probability" is absent (AIStore's own config files carry it).
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config
	aux := struct {
		*plain
		Misspelt *Probability `json:"sampler_probablity"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Misspelt != nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(b, &keys); err == nil {
			if _, ok := keys["sampler_probability"]; !ok {
				c.SamplerProbability = *aux.Misspelt
			}
		}
	}
	return nil
}

// DefaultConfig returns the documented defaults: disabled, no endpoint,
// prefix "aistore", sampling probability 1.0, default queue and batch sizes.
func DefaultConfig() Config {
	return Config{
		ServiceNamePrefix:  DefaultServicePrefix,
		SamplerProbability: 1,
		QueueSize:          DefaultQueueSize,
		BatchSize:          DefaultBatchSize,
	}
}

// Validate reports the first problem of c, wrapping ErrConfig. It checks
// values only: that the token file is readable is checked by New.
func (c Config) Validate() error {
	p := float64(c.SamplerProbability)
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("%w: sampler_probability %v outside [0,1]", ErrConfig, p)
	}
	if c.ExporterEndpoint != "" {
		if _, err := parseEndpoint(c.ExporterEndpoint); err != nil {
			return err
		}
	}
	if (c.ExporterAuth.TokenHeader == "") != (c.ExporterAuth.TokenFile == "") {
		return fmt.Errorf("%w: exporter_auth needs both token_header and token_file", ErrConfig)
	}
	if h := c.ExporterAuth.TokenHeader; h != "" && strings.ContainsAny(h, " \t\r\n:") {
		return fmt.Errorf("%w: exporter_auth.token_header %q is not a header name", ErrConfig, h)
	}
	if c.QueueSize < 0 || c.BatchSize < 0 {
		return fmt.Errorf("%w: negative queue_size %d or batch_size %d", ErrConfig, c.QueueSize, c.BatchSize)
	}
	if strings.ContainsAny(c.ServiceNamePrefix, " \t\r\n") {
		return fmt.Errorf("%w: service_name_prefix %q contains white space", ErrConfig, c.ServiceNamePrefix)
	}
	if c.BatchBytes < 0 || c.AttributeValueLimit < 0 || c.AttributeCountLimit < 0 {
		return fmt.Errorf("%w: negative batch_bytes, attribute_value_length_limit or attribute_count_limit", ErrConfig)
	}
	if math.IsNaN(c.TrustedRate) || c.TrustedRate < 0 {
		return fmt.Errorf("%w: trusted_rate %v is negative", ErrConfig, c.TrustedRate)
	}
	if _, err := parseNets(c.TrustedClients); err != nil {
		return err
	}
	if c.Tail.Latency < 0 || c.Tail.MaxSpans < 0 {
		return fmt.Errorf("%w: negative tail latency or max_spans", ErrConfig)
	}
	return nil
}

// FromEnv returns c with the environment variables listed in the package
// documentation applied on top, then validated. getenv is os.Getenv in a
// main and a map lookup in tests. An AIS_* variable wins over its OTEL_*
// counterpart; a TRACES_ variable wins over the generic one.
func FromEnv(c Config, getenv func(string) string) (Config, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				return v
			}
		}
		return ""
	}
	if v := get(envOTLPTracesEP, envOTLPEndpoint); v != "" {
		c.ExporterEndpoint = v
	}
	if v := get(EnvEndpoint); v != "" {
		c.ExporterEndpoint = v
		c.Enabled = true
	}
	if v := get(envOTLPTracesIns, envOTLPInsecure); v != "" && c.ExporterEndpoint != "" &&
		!strings.Contains(c.ExporterEndpoint, "://") {
		insecure, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%w: OTEL_EXPORTER_OTLP_INSECURE %q: %w", ErrConfig, v, err)
		}
		if insecure {
			c.ExporterEndpoint = "http://" + c.ExporterEndpoint
		} else {
			c.ExporterEndpoint = "https://" + c.ExporterEndpoint
		}
	}
	if v := get(envOTLPTracesHdrs, envOTLPHeaders); v != "" {
		h, err := parseHeaders(v)
		if err != nil {
			return c, err
		}
		c.Headers = h
	}
	if v := get(EnvServicePrefix); v != "" {
		c.ServiceNamePrefix = v
	}
	if v := get(envServiceName); v != "" {
		c.ServiceName = v
	}
	if v := get(EnvSampling); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return c, fmt.Errorf("%w: %s=%q: not a number", ErrConfig, EnvSampling, v)
		}
		c.SamplerProbability = Probability(f)
	}
	if v := get(EnvTrustedClients); v != "" {
		c.TrustedClients = nil
		if !strings.EqualFold(v, "none") {
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					c.TrustedClients = append(c.TrustedClients, item)
				}
			}
		}
	}
	if v := get(EnvTailLatency); v != "" {
		if strings.EqualFold(v, "off") {
			v = "0"
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("%w: %s=%q: not a duration", ErrConfig, EnvTailLatency, v)
		}
		c.Tail.Latency = Duration(d)
	}
	if v := get(envSDKDisabled); v != "" {
		if off, err := strconv.ParseBool(v); err == nil && off {
			c.Enabled = false
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// ServiceName returns the service name of a process of role under cfg:
// cfg.ServiceName if set, else "<prefix>-<role>" (a prefix that already
// ends in '-' gets no second one: "aistore-" gives "aistore-proxy").
func ServiceName(cfg Config, role string) string {
	if cfg.ServiceName != "" {
		return cfg.ServiceName
	}
	prefix := strings.TrimRight(cfg.ServiceNamePrefix, "-")
	if prefix == "" {
		prefix = DefaultServicePrefix
	}
	return prefix + "-" + role
}

// parseHeaders parses the OTEL_EXPORTER_OTLP_HEADERS form "k1=v1,k2=v2" with
// URL-encoded values.
func parseHeaders(s string) (map[string]string, error) {
	h := make(map[string]string)
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: OTEL_EXPORTER_OTLP_HEADERS: %q is not key=value", ErrConfig, pair)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: OTEL_EXPORTER_OTLP_HEADERS: %q: %w", ErrConfig, pair, err)
		}
		h[strings.ToLower(k)] = dv
	}
	return h, nil
}

// endpoint is a parsed Config.ExporterEndpoint.
type endpoint struct {
	hostPort string // always with a port
	insecure bool   // plaintext rather than TLS
}

// parseEndpoint parses "host[:port]", "http://host[:port]" or
// "https://host[:port]" and decides between plaintext and TLS.
func parseEndpoint(s string) (endpoint, error) {
	bad := func(why string) (endpoint, error) {
		return endpoint{}, fmt.Errorf("%w: exporter_endpoint %q: %s", ErrConfig, s, why)
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		scheme, rest = "", s
	}
	switch strings.ToLower(scheme) {
	case "", "http", "https":
	default:
		return bad("scheme must be http or https")
	}
	if hasScheme {
		u, err := url.Parse(s)
		if err != nil {
			return bad(err.Error())
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return bad("a gRPC endpoint has no path, query or user")
		}
		rest = u.Host
	}
	if rest == "" {
		return bad("no host")
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		// No port: "host", "[::1]" or a bare IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), DefaultPort
		if strings.ContainsAny(host, "/[]") {
			return bad(err.Error())
		}
	}
	if host == "" {
		return bad("no host")
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return bad("bad port")
	}
	ep := endpoint{hostPort: net.JoinHostPort(host, port)}
	switch strings.ToLower(scheme) {
	case "http":
		ep.insecure = true
	case "https":
		ep.insecure = false
	default:
		ep.insecure = isLoopback(host)
	}
	return ep, nil
}

// isLoopback tells whether host names the local machine.
func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
