package tracing

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"miniais/cluster"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Enabled || c.ExporterEndpoint != "" || c.ServiceNamePrefix != "aistore" ||
		c.SamplerProbability != 1 || c.SkipVerify || c.ExporterAuth != (ExporterAuth{}) || len(c.Attributes) != 0 {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    func(Config) bool
		wantErr bool // from Unmarshal or Validate
	}{
		{name: "empty keeps defaults", json: `{}`, want: func(c Config) bool {
			return c.SamplerProbability == 1 && c.ServiceNamePrefix == "aistore" && !c.Enabled
		}},
		{name: "probability number", json: `{"sampler_probability": 0.25}`, want: func(c Config) bool {
			return c.SamplerProbability == 0.25
		}},
		{name: "probability string", json: `{"sampler_probability": "0.5"}`, want: func(c Config) bool {
			return c.SamplerProbability == 0.5
		}},
		{name: "probability zero", json: `{"sampler_probability": 0}`, want: func(c Config) bool {
			return c.SamplerProbability == 0
		}},
		{name: "probability null keeps default", json: `{"sampler_probability": null}`, want: func(c Config) bool {
			return c.SamplerProbability == 1
		}},
		{name: "probability 1.5", json: `{"sampler_probability": 1.5}`, wantErr: true},
		{name: "probability -0.1", json: `{"sampler_probability": -0.1}`, wantErr: true},
		{name: "probability string 1.5", json: `{"sampler_probability": "1.5"}`, wantErr: true},
		{name: "probability not a number", json: `{"sampler_probability": "often"}`, wantErr: true},
		{name: "probability bool", json: `{"sampler_probability": true}`, wantErr: true},
		{name: "all fields", json: `{"enabled": true, "exporter_endpoint": "localhost:4317",
			"service_name_prefix": "ais", "attributes": {"env": "ci"}, "sampler_probability": "1",
			"skip_verify": true, "exporter_auth": {"token_header": "authorization", "token_file": "/tok"}}`,
			want: func(c Config) bool {
				return c.Enabled && c.ExporterEndpoint == "localhost:4317" && c.ServiceNamePrefix == "ais" &&
					c.Attributes["env"] == "ci" && c.SamplerProbability == 1 && c.SkipVerify &&
					c.ExporterAuth == ExporterAuth{TokenHeader: "authorization", TokenFile: "/tok"}
			}},
		{name: "token header without file", json: `{"exporter_auth": {"token_header": "authorization"}}`, wantErr: true},
		{name: "token file without header", json: `{"exporter_auth": {"token_file": "/tok"}}`, wantErr: true},
		{name: "bad endpoint scheme", json: `{"exporter_endpoint": "ftp://host:4317"}`, wantErr: true},
		{name: "negative queue", json: `{"queue_size": -1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			err := json.Unmarshal([]byte(tt.json), &c)
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tt.want(c) {
				t.Fatalf("decoded %+v", c)
			}
		})
	}
}

func TestProbabilityRoundTrip(t *testing.T) {
	c := DefaultConfig()
	c.SamplerProbability = 0.125
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var d Config
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.SamplerProbability != 0.125 {
		t.Fatalf("round trip: %s -> %v", b, d.SamplerProbability)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		base    Config
		env     map[string]string
		want    func(Config) bool
		wantErr bool
	}{
		{name: "nothing set", env: nil, want: func(c Config) bool {
			return !c.Enabled && c.ExporterEndpoint == "" && c.SamplerProbability == 1
		}},
		{name: "AIS endpoint enables", env: map[string]string{EnvEndpoint: "localhost:4317"}, want: func(c Config) bool {
			return c.Enabled && c.ExporterEndpoint == "localhost:4317"
		}},
		{name: "prefix and probability", env: map[string]string{
			EnvServicePrefix: "ais", EnvSampling: "0.01",
		}, want: func(c Config) bool {
			return c.ServiceNamePrefix == "ais" && c.SamplerProbability == 0.01 && !c.Enabled
		}},
		{name: "probability out of range", env: map[string]string{EnvSampling: "1.5"}, wantErr: true},
		{name: "probability negative", env: map[string]string{EnvSampling: "-0.1"}, wantErr: true},
		{name: "probability garbage", env: map[string]string{EnvSampling: "half"}, wantErr: true},
		{name: "OTEL endpoint does not enable", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4317"},
			want: func(c Config) bool { return !c.Enabled && c.ExporterEndpoint == "http://jaeger:4317" }},
		{name: "traces endpoint wins over generic", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "b:2",
		}, want: func(c Config) bool { return c.ExporterEndpoint == "b:2" }},
		{name: "AIS endpoint wins over OTEL", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "a:1", EnvEndpoint: "c:3",
		}, want: func(c Config) bool { return c.ExporterEndpoint == "c:3" && c.Enabled }},
		{name: "insecure prefixes http", env: map[string]string{
			EnvEndpoint: "jaeger:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true",
		}, want: func(c Config) bool { return c.ExporterEndpoint == "http://jaeger:4317" }},
		{name: "insecure false prefixes https", env: map[string]string{
			EnvEndpoint: "localhost:4317", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false",
		}, want: func(c Config) bool { return c.ExporterEndpoint == "https://localhost:4317" }},
		{name: "insecure garbage", env: map[string]string{
			EnvEndpoint: "localhost:4317", "OTEL_EXPORTER_OTLP_INSECURE": "maybe",
		}, wantErr: true},
		{name: "headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "Api-Key=a%20b, x=y"},
			want: func(c Config) bool {
				return maps.Equal(c.Headers, map[string]string{"api-key": "a b", "x": "y"})
			}},
		{name: "bad headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, wantErr: true},
		{name: "service name", env: map[string]string{"OTEL_SERVICE_NAME": "svc"},
			want: func(c Config) bool { return ServiceName(c, cluster.RoleProxy) == "svc" }},
		{name: "SDK disabled wins", env: map[string]string{EnvEndpoint: "localhost:4317", "OTEL_SDK_DISABLED": "true"},
			want: func(c Config) bool { return !c.Enabled }},
		{name: "base kept", base: Config{Enabled: true, ExporterEndpoint: "x:1", SamplerProbability: 0.5, ServiceNamePrefix: "p"},
			want: func(c Config) bool {
				return c.Enabled && c.ExporterEndpoint == "x:1" && c.SamplerProbability == 0.5 &&
					ServiceName(c, cluster.RoleTarget) == "p-target"
			}},
		{name: "bad endpoint", env: map[string]string{EnvEndpoint: "https://host:4317/v1/traces"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base.ServiceNamePrefix == "" {
				base = DefaultConfig()
			}
			c, err := FromEnv(base, func(k string) string { return tt.env[k] })
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrConfig) {
					t.Fatalf("got %+v, %v; want an ErrConfig", c, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tt.want(c) {
				t.Fatalf("got %+v", c)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in       string
		hostPort string
		insecure bool
		wantErr  bool
	}{
		{in: "localhost:4317", hostPort: "localhost:4317", insecure: true},
		{in: "localhost", hostPort: "localhost:4317", insecure: true},
		{in: "127.0.0.1:14317", hostPort: "127.0.0.1:14317", insecure: true},
		{in: "[::1]:4317", hostPort: "[::1]:4317", insecure: true},
		{in: "::1", hostPort: "[::1]:4317", insecure: true},
		{in: "jaeger.localhost:4317", hostPort: "jaeger.localhost:4317", insecure: true},
		{in: "host:4317", hostPort: "host:4317", insecure: false},
		{in: "10.0.0.1:4317", hostPort: "10.0.0.1:4317", insecure: false},
		{in: "http://host:4317", hostPort: "host:4317", insecure: true},
		{in: "http://host", hostPort: "host:4317", insecure: true},
		{in: "HTTP://host:4317/", hostPort: "host:4317", insecure: true},
		{in: "https://host:4317", hostPort: "host:4317", insecure: false},
		{in: "https://localhost:4317", hostPort: "localhost:4317", insecure: false},
		{in: "ftp://host:4317", wantErr: true},
		{in: "https://host:4317/v1/traces", wantErr: true},
		{in: "host:0", wantErr: true},
		{in: "host:99999", wantErr: true},
		{in: "host:port", wantErr: true},
		{in: "http://", wantErr: true},
		{in: ":4317", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := parseEndpoint(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseEndpoint(%q) = %+v, want an error", tt.in, ep)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseEndpoint(%q): %v", tt.in, err)
			}
			if ep.hostPort != tt.hostPort || ep.insecure != tt.insecure {
				t.Fatalf("parseEndpoint(%q) = %+v, want %s insecure=%v", tt.in, ep, tt.hostPort, tt.insecure)
			}
		})
	}
}

// AIStore's spellings and shapes: "" reads as 1.0, the misspelt key is
// taken when the right one is absent, a prefix ending in '-' gives one
// dash, and the trusted clients and tail rule come from the environment.
func TestConfigAIStoreForms(t *testing.T) {
	decode := func(t *testing.T, js string) Config {
		t.Helper()
		c := DefaultConfig()
		if err := json.Unmarshal([]byte(js), &c); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return c
	}
	tests := []struct {
		js   string
		want Probability
	}{
		{`{"sampler_probability": ""}`, 1},
		{`{"sampler_probability": "0.5"}`, 0.5},
		{`{"sampler_probablity": "0.25"}`, 0.25},
		{`{"sampler_probablity": "0.25", "sampler_probability": 0.75}`, 0.75},
		{`{}`, 1},
	}
	for _, tc := range tests {
		if got := decode(t, tc.js).SamplerProbability; got != tc.want {
			t.Errorf("%s: probability %v, want %v", tc.js, got, tc.want)
		}
	}
	c := decode(t, `{"service_name_prefix": "aistore-", "trusted_clients": ["127.0.0.0/8", "::1"], "tail": {"latency": "250ms"}}`)
	if got := ServiceName(c, "proxy"); got != "aistore-proxy" {
		t.Errorf("service name %q", got)
	}
	if len(c.TrustedClients) != 2 || !c.Tail.Enabled() || time.Duration(c.Tail.Latency) != 250*time.Millisecond {
		t.Errorf("trusted %v tail %v", c.TrustedClients, c.Tail)
	}
	if err := (Config{TrustedClients: []string{"not-an-ip"}}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("a bad trusted client: %v", err)
	}
	env := map[string]string{EnvTrustedClients: "10.0.0.0/8, 127.0.0.1", EnvTailLatency: "1s"}
	c, err := FromEnv(DefaultConfig(), func(k string) string { return env[k] })
	if err != nil || len(c.TrustedClients) != 2 || time.Duration(c.Tail.Latency) != time.Second {
		t.Errorf("from env: %+v %v", c, err)
	}
	env = map[string]string{EnvTrustedClients: "none", EnvTailLatency: "off"}
	c.TrustedClients = []string{"1.2.3.4"}
	if c, err = FromEnv(c, func(k string) string { return env[k] }); err != nil || len(c.TrustedClients) != 0 || c.Tail.Enabled() {
		t.Errorf("none/off: %+v %v", c, err)
	}
}
