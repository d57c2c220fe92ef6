package cluster

// Bucket transaction actions.
const (
	TxnCreateBucket  = "create-bck"
	TxnDestroyBucket = "destroy-bck"
)

// Txn is a two-phase bucket transaction that the proxy runs on every target:
// prepare everywhere, then commit everywhere (or abort everywhere when any
// prepare fails). It travels in the transport header's opaque field.
type Txn struct {
	ID     string       `msg:"id"`
	Action string       `msg:"a"`
	Bucket Bucket       `msg:"b"`
	Props  *BucketProps `msg:"p"`
	// BMDVersion is the version of the bucket metadata that the commit
	// publishes.
	BMDVersion int64 `msg:"v"`
}
