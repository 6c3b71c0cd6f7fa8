//! TCP sockets over Glibc, with the details that matter for a server that must not fall over:
//! close-on-exec, MSG_NOSIGNAL (a peer that vanished is an error, not a SIGPIPE), EINTR retried,
//! TCP_NODELAY for request/response traffic, timeouts as socket options.

import Base
import Glibc

public struct NetError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    static func system(_ call: String, _ address: String, errno code: Int32 = errno) -> NetError {
        NetError("\(call) \(address): \(String(cString: strerror(code))) (errno \(code))")
    }
    public var description: String { message }
}

/// An IPv4 address and port; parses `host:port` and `http://host:port[/]`.
public struct Endpoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    public init(parsing text: String) throws(NetError) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") {
            throw NetError("'\(text)': only http:// endpoints are supported")
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
            throw NetError("'\(text)' is not HOST:PORT or http://HOST:PORT")
        }
        self.init(host: String(rest[..<colon]), port: port)
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            throw NetError("'\(text)': host must be an IPv4 address or localhost")
        }
    }

    public var description: String { "\(host):\(port)" }

    func socketAddress() -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }
}

/// POLLRDHUP (Linux; Glibc hides it behind _GNU_SOURCE): the peer shut down its writing side.
let pollReadHangUp: Int16 = 0x2000

public enum Socket {
    /// Ignore SIGPIPE process-wide: writes use MSG_NOSIGNAL, but a stray write elsewhere must
    /// not kill a server either.
    public static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    public static func listen(_ endpoint: Endpoint, backlog: Int32 = 1024) throws(NetError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", endpoint.description) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = endpoint.socketAddress()
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw .system("bind", endpoint.description, errno: code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw .system("listen", endpoint.description, errno: code)
        }
        return fd
    }

    /// The port a listening socket got (for port 0).
    /// A loopback port nothing listens on right now (for tests and benchmarks: another process
    /// may take it before the caller does).
    public static func freePort() throws(NetError) -> UInt16 {
        let fd = try listen(Endpoint(host: "127.0.0.1", port: 0))
        defer { close(fd) }
        return localPort(fd)
    }

    public static func localPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection; nil when the listener was closed.
    public static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                setNoDelay(fd)
                return fd
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(10_000)  // out of descriptors: back off instead of spinning
                continue
            default: return nil
            }
        }
    }

    /// Connects with a timeout (non-blocking connect + poll), then returns a blocking socket.
    /// `source` binds the local side to that IPv4 address first (any port): loopback tests
    /// dial from 127.0.0.11, 127.0.0.12, … so a fault proxy can tell the callers apart.
    /// The environment variable that names the address a process dials from when the caller
    /// gives none: the testbed's loopback mode sets it so the fault proxy knows who is calling.
    public static let sourceAddressVariable = "FAULTLINE_SOURCE_ADDRESS"
    static let processSourceAddress: String? = getenv(sourceAddressVariable).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }

    /// `mark` (when not 0) sets the socket's firewall mark (SO_MARK, which needs CAP_NET_ADMIN)
    /// before it dials, for policy routing: the fault proxy marks its dials to pods.
    public static func connect(_ endpoint: Endpoint, from source: String? = nil, mark: UInt32 = 0, timeout: Nanoseconds) throws(NetError) -> Int32 {
        let source = source ?? processSourceAddress
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", endpoint.description) }
        if mark != 0 {
            guard setMark(fd, mark) else {
                let code = errno
                close(fd)
                throw .system("setsockopt SO_MARK \(mark) for", endpoint.description, errno: code)
            }
        }
        if let source {
            var local = Endpoint(host: source, port: 0).socketAddress()
            guard inet_pton(AF_INET, source, &local.sin_addr) == 1 else {
                close(fd)
                throw NetError("source address '\(source)' is not an IPv4 address")
            }
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let code = errno
                close(fd)
                throw .system("bind", "\(source):0", errno: code)
            }
        }
        var address = endpoint.socketAddress()
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                close(fd)
                throw .system("connect", endpoint.description, errno: code)
            }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, timeout / Time.millisecond)))
            guard ready == 1 else {
                close(fd)
                throw NetError("connect \(endpoint): timed out after \(Time.describe(timeout))")
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else {
                close(fd)
                throw .system("connect", endpoint.description, errno: failure)
            }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~Int32(O_NONBLOCK))
        setNoDelay(fd)
        return fd
    }

    /// Sets the socket's firewall mark (SO_MARK); false when the kernel refuses (no CAP_NET_ADMIN).
    public static func setMark(_ fd: Int32, _ mark: UInt32) -> Bool {
        var value = mark
        return setsockopt(fd, SOL_SOCKET, SO_MARK, &value, socklen_t(MemoryLayout<UInt32>.size)) == 0
    }

    public static func setNoDelay(_ fd: Int32) {
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Receive timeout: a blocked read returns EAGAIN after this long (0 = wait forever).
    public static func setReceiveTimeout(_ fd: Int32, _ timeout: Nanoseconds) {
        var value = timeval(tv_sec: Int(timeout / Time.second), tv_usec: Int((timeout % Time.second) / Time.microsecond))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    public static func setSendTimeout(_ fd: Int32, _ timeout: Nanoseconds) {
        var value = timeval(tv_sec: Int(timeout / Time.second), tv_usec: Int((timeout % Time.second) / Time.microsecond))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes every byte; false if the connection failed (reset, closed, send timeout).
    public static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = send(fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { sendAll(fd, $0) }
    }

    public enum ReceiveResult { case data(Int), closed, timedOut, failed(Int32) }

    /// Reads what is available into `buffer` (up to its size).
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> ReceiveResult {
        while true {
            let count = recv(fd, buffer.baseAddress!, buffer.count, 0)
            if count > 0 { return .data(count) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .timedOut
            default: return .failed(errno)
            }
        }
    }

    /// The IPv4 address of a connected socket's peer (getpeername); nil when it has none.
    public static func peerIP(_ fd: Int32) -> String? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard named == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(INET_ADDRSTRLEN)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes the next close send RST instead of FIN (SO_LINGER with a zero timeout).
    public static func setResetOnClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Resets a connection now, while other threads may be blocked on it: connect(AF_UNSPEC)
    /// disconnects a TCP socket with an RST and wakes every reader and writer, and the
    /// descriptor stays the caller's (no reuse race) until the last thread closes it. Should
    /// the kernel refuse, shutting down the reading side still wakes the readers, and the close
    /// that follows sends the RST (SO_LINGER 0).
    public static func resetNow(_ fd: Int32) {
        setResetOnClose(fd)
        var unspecified = sockaddr()
        unspecified.sa_family = sa_family_t(AF_UNSPEC)
        if Glibc.connect(fd, &unspecified, socklen_t(MemoryLayout<sockaddr>.size)) != 0 {
            shutdown(fd, Int32(SHUT_RD))
        }
    }

    /// True if the peer closed its side or reset (checked without consuming data).
    /// Waits up to `timeout` for something to read (bytes, an end, an error, a shutdown from
    /// another thread); false when the time passed with nothing.
    public static func waitReadable(_ fd: Int32, timeout: Nanoseconds) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN) | pollReadHangUp, revents: 0)
        let milliseconds = Int32(clamping: max(1, (timeout + Time.millisecond - 1) / Time.millisecond))
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready >= 0 { return ready > 0 }
            // Interrupted by a signal: wait again (a little longer at worst, never shorter).
            guard errno == EINTR else { return true }
        }
    }

    public static func peerClosed(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN) | pollReadHangUp, revents: 0)
        guard poll(&poller, 1, 0) == 1 else { return false }
        if poller.revents & (pollReadHangUp | Int16(POLLHUP) | Int16(POLLERR)) != 0 { return true }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR)
    }
}
