//! MVCC: etcd's multi-version key-value store as a pure, deterministic state machine.
