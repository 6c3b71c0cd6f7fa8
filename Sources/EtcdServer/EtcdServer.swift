//! EtcdServer: `faultline etcd` — Raft, the MVCC store, the WAL and the JSON API wired together.
