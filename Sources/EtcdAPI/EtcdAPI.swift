//! EtcdAPI: etcd's v3 JSON gateway, as pure functions — request bodies to `MVCC` messages and
//! responses back to the exact JSON etcd 3.4 sends (int64 as strings, bytes as base64, zero
//! values omitted), error bodies included. No sockets here: the server feeds it bytes.
