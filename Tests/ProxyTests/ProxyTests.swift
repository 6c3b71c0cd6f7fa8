//! ProxyTests: the relay over loopback (filled in with the relay).
