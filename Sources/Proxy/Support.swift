//! The relay's small tools: a monotonic clock, a mutex with a condition variable that waits on
//! the monotonic clock, and the socket calls Net does not need (accept with the peer's address;
//! reset instead of close is Net's now, shared with the kube-proxy).

import Base
import Glibc
import Net

enum ProxyClock {
    static func now() -> Nanoseconds {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Nanoseconds(spec.tv_sec) * Time.second + Nanoseconds(spec.tv_nsec)
    }
}

/// A pthread mutex and condition variable (CLOCK_MONOTONIC), for threads that sleep until a
/// deadline or until someone signals: Swift's `Mutex` has no condition variable.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits (the lock held) until signalled or until `deadline` (monotonic), whichever is first.
    /// Spurious wake-ups happen: callers re-check their condition in a loop.
    func wait(until deadline: Nanoseconds?) {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var spec = timespec(tv_sec: Int(deadline / Time.second), tv_nsec: Int(deadline % Time.second))
        _ = pthread_cond_timedwait(condition, mutex, &spec)
    }

    func broadcast() { pthread_cond_broadcast(condition) }
}

enum ProxySocket {
    /// Accepts one connection and tells the caller's IPv4 address; nil when the listener closed.
    static func accept(_ listener: Int32) -> (fd: Int32, peer: String)? {
        while true {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
            }
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                var yes: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return (fd, ipv4Text(address.sin_addr))
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(10_000)  // Out of descriptors: back off instead of spinning.
                continue
            default: return nil
            }
        }
    }

    /// The IPv4 address an accepted connection was sent to (getsockname): for a listener on
    /// 0.0.0.0, the original destination.
    static func localAddress(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        // A socket we just accepted always has a name; "0.0.0.0" (no pod holds it) if not.
        return named == 0 ? ipv4Text(address.sin_addr) : "0.0.0.0"
    }

    static func ipv4Text(_ address: in_addr) -> String {
        var copy = address
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &copy, &text, socklen_t(INET_ADDRSTRLEN))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes the next close send RST instead of FIN (Net's, which the kube-proxy shares).
    static func setResetOnClose(_ fd: Int32) { Socket.setResetOnClose(fd) }

    /// Resets a connection now, waking every thread blocked on it (see `Socket.resetNow`).
    static func resetNow(_ fd: Int32) { Socket.resetNow(fd) }

    /// Send timeout: a send blocked by a peer that does not read wakes this often to notice the
    /// connection is closing (the fast path never waits this long).
    static func setSendTimeout(_ fd: Int32, _ timeout: Nanoseconds) {
        var value = timeval(tv_sec: Int(timeout / Time.second), tv_usec: Int((timeout % Time.second) / Time.microsecond))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// splice(2), which Glibc's Swift module hides (a GNU extension): found once with dlsym. The
/// relay's fast path moves bytes socket -> pipe -> socket without copying them through user
/// space; where the call is missing it reads and writes through its buffer instead.
enum Splice {
    typealias Function = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
    static let function: Function? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "splice") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
    /// SPLICE_F_MOVE: move pages instead of copying where the kernel can.
    static let move: UInt32 = 1
    /// F_SETPIPE_SZ (Linux): the pipe's capacity.
    static let setPipeSize: Int32 = 1031

    /// A pipe of (at least) `capacity` bytes, both ends close-on-exec; nil if splice is missing.
    static func pipe(capacity: Int) -> (read: Int32, write: Int32)? {
        guard function != nil else { return nil }
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { return nil }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // Without the capacity a splice moves at most 64 KiB at a time (still correct, slower).
        _ = fcntl(ends[1], setPipeSize, Int32(capacity))
        return (ends[0], ends[1])
    }
}
