package jaegerquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrTraceNotFound is returned (wrapped) by Client.Trace when Jaeger does
// not know the trace, or not yet: spans reach the query API a moment after
// they are exported.
var ErrTraceNotFound = errors.New("trace not found")

// DefaultTimeout bounds one request of a Client whose HTTPClient is nil.
const DefaultTimeout = 10 * time.Second

// Response is the envelope of every reply of the query API: Data holds the
// answer (traces, or service names), Errors what Jaeger could not do.
type Response[T any] struct {
	Data   []T     `json:"data"`
	Errors []Error `json:"errors"`
}

// Error is one element of a reply's "errors".
type Error struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID,omitempty"`
}

// Client queries one Jaeger. The zero value is not usable: BaseURL is
// required. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is Jaeger's query URL, "http://HOST:16686" (a trailing slash
	// is ignored).
	BaseURL string
	// HTTPClient makes the requests; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
}

// New returns a Client of the Jaeger query API at baseURL; hc may be nil.
func New(baseURL string, hc *http.Client) *Client {
	return &Client{BaseURL: baseURL, HTTPClient: hc}
}

func (c *Client) base() string { return strings.TrimRight(c.BaseURL, "/") }

// get GETs path from the query API and decodes the JSON reply into v,
// numbers as json.Number. A 404 is ErrTraceNotFound; another status than
// 200 is an error quoting the start of the body.
func (c *Client) get(ctx context.Context, path string, v any) error {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+path, nil)
	if err != nil {
		return fmt.Errorf("jaeger query: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Jaeger at %s: %w", c.base(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w in Jaeger at %s", ErrTraceNotFound, c.base())
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("jaeger at %s: GET %s: %s: %s", c.base(), path, resp.Status, strings.TrimSpace(string(b)))
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("jaeger at %s: GET %s: decode: %w", c.base(), path, err)
	}
	return nil
}

// Trace returns the trace with the given hex ID (GET /api/traces/{id}). It
// wraps ErrTraceNotFound when Jaeger does not have it. Leading zeros and
// case of id do not matter.
func (c *Client) Trace(ctx context.Context, id string) (*Trace, error) {
	var reply Response[Trace]
	if err := c.get(ctx, "/api/traces/"+url.PathEscape(id), &reply); err != nil {
		if errors.Is(err, ErrTraceNotFound) {
			return nil, fmt.Errorf("%w: %s", err, id)
		}
		return nil, err
	}
	want := strings.TrimLeft(id, "0")
	for i := range reply.Data {
		if strings.EqualFold(strings.TrimLeft(reply.Data[i].TraceID, "0"), want) || len(reply.Data) == 1 {
			return &reply.Data[i], nil
		}
	}
	return nil, fmt.Errorf("%w in Jaeger at %s: %s", ErrTraceNotFound, c.base(), id)
}

// Services returns the service names Jaeger has seen (GET /api/services).
func (c *Client) Services(ctx context.Context) ([]string, error) {
	var reply Response[string]
	if err := c.get(ctx, "/api/services", &reply); err != nil {
		return nil, err
	}
	return reply.Data, nil
}

// Traces returns up to limit traces that hold spans of service, started
// within lookback before now (GET /api/traces?service=...).
func (c *Client) Traces(ctx context.Context, service string, limit int, lookback time.Duration) ([]Trace, error) {
	var reply Response[Trace]
	end := time.Now()
	micros := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)},
		"start": {micros(end.Add(-lookback))}, "end": {micros(end)}}
	if err := c.get(ctx, "/api/traces?"+q.Encode(), &reply); err != nil {
		return nil, err
	}
	return reply.Data, nil
}
