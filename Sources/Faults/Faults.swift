//! Faults: what the network between hosts should do right now, as a pure table of rules.
//!
//! The fault proxy (target `Proxy`) asks one question for every directed link it relays:
//! `FaultTable.policy(from:to:now:)`. The answer, a `LinkPolicy`, says whether bytes on that
//! link are blocked (and how: a silent blackhole or a reset), how long each chunk waits, and how
//! fast bytes may flow. Rules come from the control API as JSON or from command-line flags
//! (`FaultRule.parse`), are validated against the hosts the table knows, and combine:
//!
//! - blocking: reject beats blackhole beats open;
//! - latency: delays (and jitters) of every matching rule add up;
//! - bandwidth: the lowest cap wins.
//!
//! Nothing here reads a clock or draws an unseeded random number: `now` is passed in, and the
//! probability of a rule is decided with a `SeededRandom` the caller owns (`RuleDraws`), so a
//! test with a fixed seed sees the same decisions every time.

import Base

/// A host as the topology names it ("etcd-1", "client"); `*` in a link rule means any host.
public typealias HostName = String

/// The host that stands for the root namespace: the user's shell, kubectl and the workload.
public let clientHost: HostName = "client"

/// The wildcard host of link rules (`cut`, `latency`, `bandwidth`, `reset`).
public let anyHost: HostName = "*"

/// A directed link: bytes travelling from `from` to `to`.
public struct Link: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var from: HostName
    public var to: HostName

    public init(from: HostName, to: HostName) {
        self.from = from
        self.to = to
    }

    public var reversed: Link { Link(from: to, to: from) }
    public var description: String { "\(from)->\(to)" }
    public static func < (a: Link, b: Link) -> Bool { (a.from, a.to) < (b.from, b.to) }

    /// True when this link (which may hold wildcards) covers the concrete link `from -> to`.
    func covers(from source: HostName, to target: HostName) -> Bool {
        (from == anyHost || from == source) && (to == anyHost || to == target)
    }
}

/// How a blocking rule blocks.
public enum BlockMode: String, Sendable, CaseIterable {
    /// Silent stall: bytes stop, connections stay open and hang, no FIN or RST is ever sent;
    /// new connections are accepted and then hang. Healing resumes them where they stopped.
    case blackhole
    /// Refusal: new connections are reset as soon as they are accepted, open ones are reset.
    case reject
}

/// What a link's policy does to its bytes; ordered so that `max` combines overlapping rules.
public enum Blocking: Int, Comparable, Sendable, CustomStringConvertible {
    case open = 0
    case blackhole = 1
    case reject = 2

    public init(_ mode: BlockMode) {
        switch mode {
        case .blackhole: self = .blackhole
        case .reject: self = .reject
        }
    }

    public static func < (a: Blocking, b: Blocking) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .open: "none"
        case .blackhole: "blackhole"
        case .reject: "reject"
        }
    }
}

/// A rule or a request that cannot be accepted, with a message for the person who wrote it.
public struct FaultError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The table's bounds (everything is bounded; a runaway script must not grow the table forever).
public struct FaultLimits: Sendable {
    /// Active rules at once.
    public var rulesMax = 1024
    /// Rules in one atomic update.
    public var rulesPerUpdateMax = 256
    /// The longest delay a latency rule may ask for.
    public var delayMax: Nanoseconds = 3600 * Time.second
    public init() {}
}

// MARK: - Durations and sizes in text

/// Exact text for durations and byte rates, so JSON written by the table parses back equal.
public enum FaultText {
    /// `200ms`, `1500us`, `2s`, `0s`: the largest unit that divides the value exactly
    /// (`Time.parse` reads every spelling back to the same value).
    public static func duration(_ value: Nanoseconds) -> String {
        precondition(value >= 0, "negative duration \(value)")
        if value == 0 { return "0s" }
        let units: [(String, Nanoseconds)] = [("h", 3600 * Time.second), ("m", 60 * Time.second), ("s", Time.second),
            ("ms", Time.millisecond), ("us", Time.microsecond)]
        for (suffix, scale) in units where value % scale == 0 { return "\(value / scale)\(suffix)" }
        return "\(value)ns"
    }

    /// Parses a byte count: `1000000`, `64KB`, `10MB`, `1GB` (powers of 1000) or `64KiB`,
    /// `10MiB`, `1GiB` (powers of 1024); an optional trailing `/s` is allowed for rates.
    public static func bytes(_ text: String) -> Int64? {
        var body = Substring(text.trimmingSuffix("/s"))
        let suffixes: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("kB", 1000),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
        var scale: Int64 = 1
        for (suffix, value) in suffixes where body.hasSuffix(suffix) {
            body = body.dropLast(suffix.count)
            scale = value
            break
        }
        guard let number = Int64(body), number >= 0 else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
