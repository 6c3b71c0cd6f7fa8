//! The clock our own components read, which the testbed can skew and make drift. The supervisor
//! writes a small JSON file per host (`{"offset_ns": N, "rate": R}`) and starts the host with
//! `FAULTLINE_CLOCK` naming it; the clock re-reads the file when it changes (checked at most every
//! 100 ms of real time).
//!
//! - `offset_ns` moves the wall clock (timestamps, ids). Like etcd, our store times leases and
//!   elections on the monotonic clock, so a skewed wall clock alone changes no decision.
//! - `rate` makes the monotonic clock run fast (> 1) or slow (< 1): timeouts, ticks and lease
//!   expiry then pass at that rate. It is continuous: a rate change never makes time jump.
//!
//! Without `FAULTLINE_CLOCK` both are the real clocks.

import Base
import Foundation
import Glibc
import Synchronization

public final class FaultClock: Sendable {
    public struct Setting: Codable, Equatable, Sendable {
        public var offsetNanoseconds: Int64
        public var rate: Double
        public init(offsetNanoseconds: Int64 = 0, rate: Double = 1) {
            self.offsetNanoseconds = offsetNanoseconds
            self.rate = rate
        }
        enum CodingKeys: String, CodingKey {
            case offsetNanoseconds = "offset_ns"
            case rate
        }
    }

    private struct State {
        var setting = Setting()
        /// The monotonic mapping: faulted = faultedBase + (real - realBase) * rate.
        var realBase: Nanoseconds = 0
        var faultedBase: Nanoseconds = 0
        var lastCheck: Nanoseconds?
        var fileStamp: Int64 = -1
    }

    public static let shared = FaultClock(path: ProcessInfo.processInfo.environment["FAULTLINE_CLOCK"])
    public static let rateRange = 0.01...100.0

    private let path: String?
    private let state = Mutex(State())

    public init(path: String?) { self.path = path }

    public static func realMonotonic() -> Nanoseconds { MonotonicClock.now() }

    /// The (possibly drifting) monotonic clock.
    public func monotonic() -> Nanoseconds { monotonic(real: Self.realMonotonic()) }

    public func monotonic(real: Nanoseconds) -> Nanoseconds {
        refresh(real: real)
        return state.withLock { Self.faulted(real, $0) }
    }

    /// The real monotonic instant at which the faulted clock reads `faulted` (for timed waits).
    public func realInstant(of faulted: Nanoseconds) -> Nanoseconds {
        state.withLock { state in
            state.realBase + Nanoseconds(Double(faulted - state.faultedBase) / state.setting.rate)
        }
    }

    /// The wall clock with the skew applied.
    public func wallNow() -> Date {
        refresh(real: Self.realMonotonic())
        let offset = state.withLock { $0.setting.offsetNanoseconds }
        return Date(timeIntervalSinceNow: Double(offset) / 1e9)
    }

    public var setting: Setting { state.withLock { $0.setting } }

    /// Applies a setting now (the file does this in a real run; tests call it directly).
    public func apply(_ setting: Setting, real: Nanoseconds = FaultClock.realMonotonic()) {
        precondition(Self.rateRange.contains(setting.rate), "clock rate \(setting.rate) outside \(Self.rateRange)")
        state.withLock { state in
            // Re-base so the monotonic clock continues from where it is.
            let now = Self.faulted(real, state)
            state.realBase = real
            state.faultedBase = now
            state.setting = setting
        }
    }

    private static func faulted(_ real: Nanoseconds, _ state: State) -> Nanoseconds {
        if state.setting.rate == 1 { return state.faultedBase + (real - state.realBase) }
        return state.faultedBase + Nanoseconds(Double(real - state.realBase) * state.setting.rate)
    }

    private func refresh(real: Nanoseconds) {
        guard let path else { return }
        let due = state.withLock { state -> Bool in
            if let last = state.lastCheck, real - last < 100 * Time.millisecond { return false }
            state.lastCheck = real
            return true
        }
        guard due else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let stamp = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) ^ Int64(info.st_size)
        guard stamp != state.withLock({ $0.fileStamp }) else { return }
        guard let data = FileManager.default.contents(atPath: path),
            let setting = try? JSONDecoder().decode(Setting.self, from: data), Self.rateRange.contains(setting.rate)
        else { return }
        state.withLock { $0.fileStamp = stamp }
        if setting != self.setting { apply(setting, real: real) }
    }

    /// Writes a setting where `FaultClock(path:)` will find it (atomically).
    public static func write(_ setting: Setting, to path: String) throws {
        let data = try JSONEncoder().encode(setting)
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw NetError("cannot rename \(temporary) to \(path)") }
    }
}
