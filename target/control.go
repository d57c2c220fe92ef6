package target

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/transport"
)

// maxControlBody bounds the body of a control message (cluster map, bucket
// metadata).
const maxControlBody = 16 << 20

// registerControl installs the transport handlers of the control plane.
func (t *Target) registerControl(srv *transport.Server) {
	srv.Handle(transport.KindPing, func(context.Context, *transport.Message, *transport.Header) ([]byte, error) { return nil, nil })
	srv.Handle(transport.KindMapPush, t.handleMapPush)
	srv.Handle(transport.KindBMDPush, t.handleBMDPush)
	srv.Handle(transport.KindTxnPrepare, t.handleTxnPrepare)
	srv.Handle(transport.KindTxnCommit, t.handleTxnCommit)
	srv.Handle(transport.KindTxnAbort, t.handleTxnAbort)
	srv.Handle(transport.KindListObjects, t.handleList)
	srv.Handle(transport.KindObjectPut, t.handleObjectPut)
	srv.Handle(transport.KindConfigPush, t.handleConfigPush)
	srv.Handle(transport.KindRebalanceDone, t.handleRebalanceDone)
	srv.Handle(transport.KindBucketSummary, t.handleBucketSummary)
	srv.Handle(transport.KindNodeLeave, t.handleNodeLeave)
	t.registerJobs(srv)
}

// fromProxy refuses control messages that do not come from the primary
// proxy of the current map (when there is one).
func (t *Target) fromProxy(msg *transport.Message) error {
	smap := t.smap.Load()
	if smap.Primary != nil && msg.Header.Sender != smap.Primary.ID {
		return cluster.Errorf(cluster.ErrBadRequest, "%s from %q, not from the proxy %s", msg.Header.Kind, msg.Header.Sender, smap.Primary.ID)
	}
	return nil
}

func (t *Target) handleMapPush(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	smap := &cluster.Map{}
	if _, err := smap.UnmarshalMsg(b); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed cluster map: %v", err)
	}
	if smap.Primary == nil || smap.Primary.ID != msg.Header.Sender {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "cluster map pushed by %q, which is not its primary proxy", msg.Header.Sender)
	}
	t.applySmap(ctx, smap)
	return nil, nil
}

func (t *Target) handleBMDPush(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	bmd := &cluster.BMD{}
	if _, err := bmd.UnmarshalMsg(b); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket metadata: %v", err)
	}
	return nil, t.applyBMD(ctx, bmd)
}

func decodeTxn(msg *transport.Message) (*cluster.Txn, error) {
	txn := &cluster.Txn{}
	if _, err := txn.UnmarshalMsg(msg.Header.Opaque); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed transaction: %v", err)
	}
	if err := txn.Bucket.Validate(); err != nil {
		return nil, err
	}
	return txn, nil
}

// handleTxnPrepare checks that this target can carry out the transaction
// and records it.
func (t *Target) handleTxnPrepare(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	txn, err := decodeTxn(msg)
	if err != nil {
		return nil, err
	}
	exists := t.bmd.Load().Get(txn.Bucket) != nil
	switch txn.Action {
	case cluster.TxnCreateBucket:
		if exists {
			return nil, cluster.Errorf(cluster.ErrExists, "target %s: bucket %s already exists", t.cfg.ID, txn.Bucket)
		}
		if len(t.store.Mountpaths().List()) == 0 {
			return nil, cluster.Errorf(cluster.ErrUnavailable, "target %s has no mountpaths", t.cfg.ID)
		}
	case cluster.TxnDestroyBucket:
	default:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "unknown transaction %q", txn.Action)
	}
	now := time.Now()
	t.txnMu.Lock()
	for id, p := range t.txns { // a prepare whose commit or abort never came
		if now.Sub(p.at) > txnTTL {
			delete(t.txns, id)
			t.log.WarnContext(ctx, "prepared transaction expired", "txn", id, "action", p.txn.Action, "bucket", p.txn.Bucket.String())
		}
	}
	t.txns[txn.ID] = preparedTxn{txn: txn, at: now}
	t.txnMu.Unlock()
	return nil, nil
}

// txnTTL is how long a prepared transaction waits for its commit or abort
// (the proxy bounds each phase by its push timeout, seconds).
const txnTTL = 2 * time.Minute

// preparedTxn is a prepared bucket transaction and when it was prepared.
type preparedTxn struct {
	txn *cluster.Txn
	at  time.Time
}

// handleTxnCommit applies the bucket metadata the commit carries.
func (t *Target) handleTxnCommit(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	txn, err := decodeTxn(msg)
	if err != nil {
		return nil, err
	}
	t.txnMu.Lock()
	_, ok := t.txns[txn.ID]
	delete(t.txns, txn.ID)
	t.txnMu.Unlock()
	if !ok {
		t.log.WarnContext(ctx, "commit of a transaction this target did not prepare", "txn", txn.ID, "action", txn.Action)
	}
	b, err := msg.ReadBody(maxControlBody)
	if err != nil {
		return nil, err
	}
	bmd := &cluster.BMD{}
	if _, err := bmd.UnmarshalMsg(b); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed bucket metadata: %v", err)
	}
	return nil, t.applyBMD(ctx, bmd)
}

// handleTxnAbort forgets a prepared transaction.
func (t *Target) handleTxnAbort(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	if err := t.fromProxy(msg); err != nil {
		return nil, err
	}
	txn, err := decodeTxn(msg)
	if err != nil {
		return nil, err
	}
	t.txnMu.Lock()
	delete(t.txns, txn.ID)
	t.txnMu.Unlock()
	return nil, nil
}

// handleList returns one sorted page of this target's objects of a bucket.
func (t *Target) handleList(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	var lso wire.ListObjsMsg
	if err := json.Unmarshal(msg.Header.Opaque, &lso); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "malformed list message: %v", err)
	}
	bck := cluster.NewBucket(msg.Header.Bucket)
	res, err := t.listPage(ctx, bck, lso)
	if err != nil {
		return nil, err
	}
	return res.MarshalMsg(nil)
}

func location(id, mountpath string) string { return fmt.Sprintf("t[%s]:mp[%s]", id, mountpath) }

// handleBucketSummary returns this target's part of a bucket summary (the
// objects whose names start with the prefix in Header.Opaque) as JSON.
func (t *Target) handleBucketSummary(ctx context.Context, msg *transport.Message, _ *transport.Header) ([]byte, error) {
	bck := cluster.NewBucket(msg.Header.Bucket)
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	if t.bmd.Load().Get(bck) == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	var sum wire.TargetSummary
	token := ""
	for {
		entries, next, err := t.store.List(ctx, bck, fs.ListOptions{Prefix: string(msg.Header.Opaque), Token: token})
		if err != nil {
			return nil, err
		}
		for i := range entries {
			size := entries[i].Size
			if sum.Objects == 0 || size < sum.Min {
				sum.Min = size
			}
			sum.Max = max(sum.Max, size)
			sum.Objects++
			sum.Bytes += uint64(size)
			sum.OnDisk += uint64(size) * uint64(max(entries[i].Copies, 1)) // a mirrored object's every copy
		}
		if next == "" {
			break
		}
		token = next
	}
	sum.Disks = t.store.Capacity()
	return json.Marshal(sum)
}
