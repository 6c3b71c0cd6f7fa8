//! Storage: the real disk — a checksummed, fsync'd write-ahead log and snapshot files.
