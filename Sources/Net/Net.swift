//! Net: the real network — sockets, an HTTP/1.1 server and client, framed TCP streams.
//! The only place besides Storage that touches the operating system.
