//! Fault rules and the decision they make for each directed link between hosts: pass, stall
//! (blackhole) or refuse (reject), and how much to delay. Pure: the proxy asks, this answers.
//!
//! Rules (hosts are named as in the topology; the root namespace is the host `client`):
//! - `partition`: `groups` of hosts that cannot talk across groups, both ways. Hosts named in no
//!   group form one more group together.
//! - `isolate`: `host` can talk to no other host, both ways — except `client` unless
//!   `include_client` is set (a client can then watch the isolated member fail to commit).
//! - `cut`: bytes from `from` to `to` stop; the other direction still flows.
//! - `latency`: bytes from `from` to `to` are delayed by `delay` ± `jitter` (order preserved).
//! - `bandwidth`: bytes from `from` to `to` flow at most `rate` bytes per second.
//! Blocking rules have a `mode`: `blackhole` (silent stall: no bytes, no FIN, no RST; new
//! connections are accepted and then hang) or `reject` (connections refused and open ones reset).

import Base

public enum BlockMode: String, Sendable, Codable, Equatable {
    case blackhole, reject
}

public struct FaultRule: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case partition, isolate, cut, latency, bandwidth }
    public var id: String?
    public var kind: Kind
    public var groups: [[String]]?
    public var host: String?
    public var from: String?
    public var to: String?
    public var mode: BlockMode?
    public var includeClient: Bool?
    public var delayNanoseconds: Int64?
    public var jitterNanoseconds: Int64?
    public var bytesPerSecond: Int64?
    /// The rule heals itself this long after it was added.
    public var ttlNanoseconds: Int64?
    /// When it heals (set by the table from `ttl` and the time it was added).
    public var expiresAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, kind, groups, host, from, to, mode
        case includeClient = "include_client"
        case delayNanoseconds = "delay_ns"
        case jitterNanoseconds = "jitter_ns"
        case bytesPerSecond = "bytes_per_second"
        case ttlNanoseconds = "ttl_ns"
        case expiresAt = "expires_at_ns"
    }

    public init(kind: Kind, groups: [[String]]? = nil, host: String? = nil, from: String? = nil, to: String? = nil,
        mode: BlockMode? = nil, includeClient: Bool? = nil, delay: Nanoseconds? = nil, jitter: Nanoseconds? = nil)
    {
        self.kind = kind
        self.groups = groups
        self.host = host
        self.from = from
        self.to = to
        self.mode = mode
        self.includeClient = includeClient
        self.delayNanoseconds = delay
        self.jitterNanoseconds = jitter
    }

    /// Does this rule block bytes from `source` to `target`?
    func blocks(_ source: String, _ target: String) -> Bool {
        guard source != target else { return false }
        switch kind {
        case .partition:
            let groups = self.groups ?? []
            func group(_ host: String) -> Int { groups.firstIndex { $0.contains(host) } ?? groups.count }
            return group(source) != group(target)
        case .isolate:
            guard let host, source == host || target == host else { return false }
            let other = source == host ? target : source
            return other != "client" || includeClient == true
        case .cut:
            return source == from && target == to
        case .latency, .bandwidth:
            return false
        }
    }
}

public struct FaultRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// What happens to bytes on one directed link now.
public struct LinkPolicy: Sendable, Equatable {
    public var block: BlockMode?
    public var delay: Nanoseconds = 0
    public var jitter: Nanoseconds = 0
    /// A cap in bytes per second; nil for none.
    public var bytesPerSecond: Int64?
    public init(block: BlockMode?, delay: Nanoseconds = 0, jitter: Nanoseconds = 0, bytesPerSecond: Int64? = nil) {
        self.block = block
        self.delay = delay
        self.jitter = jitter
        self.bytesPerSecond = bytesPerSecond
    }
    public static let open = LinkPolicy(block: nil)
}

public struct FaultTable: Sendable {
    public let hosts: Set<String>
    public private(set) var rules: [FaultRule] = []
    /// Bumped by every change, so readers can cache policies cheaply.
    public private(set) var version: UInt64 = 0
    private var nextID = 1

    public init(hosts: Set<String>) { self.hosts = hosts.union(["client"]) }

    /// Adds rules atomically: all of them, or none when one is invalid. Returns their ids.
    /// `now` (monotonic) starts the clock of rules with a TTL.
    public mutating func add(_ added: [FaultRule], now: Nanoseconds = 0) throws(FaultRuleError) -> [String] {
        for rule in added { try validate(rule) }
        var ids: [String] = []
        for var rule in added {
            rule.expiresAt = rule.ttlNanoseconds.map { now + $0 }
            rule.id = "r\(nextID)"
            nextID += 1
            ids.append(rule.id!)
            rules.append(rule)
        }
        version += 1
        return ids
    }

    @discardableResult
    public mutating func remove(_ id: String) -> Bool {
        guard let index = rules.firstIndex(where: { $0.id == id }) else { return false }
        rules.remove(at: index)
        version += 1
        return true
    }

    /// Removes the rules whose TTL ran out by `now`; their ids.
    public mutating func expire(now: Nanoseconds) -> [String] {
        let expired = rules.filter { ($0.expiresAt ?? Int64.max) <= now }.compactMap(\.id)
        guard !expired.isEmpty else { return [] }
        rules.removeAll { expired.contains($0.id ?? "") }
        version += 1
        return expired
    }

    public mutating func removeAll() {
        rules.removeAll()
        version += 1
    }

    /// The combined effect of every rule on bytes from `source` to `target`: reject beats
    /// blackhole; delays add up; the lowest bandwidth wins.
    public func policy(from source: String, to target: String) -> LinkPolicy {
        var policy = LinkPolicy.open
        for rule in rules {
            if rule.blocks(source, target) {
                let mode = rule.mode ?? .blackhole
                if policy.block != .reject { policy.block = mode }
            }
            if rule.kind == .latency && rule.from == source && rule.to == target {
                policy.delay += Nanoseconds(rule.delayNanoseconds ?? 0)
                policy.jitter += Nanoseconds(rule.jitterNanoseconds ?? 0)
            }
            if rule.kind == .bandwidth && rule.from == source && rule.to == target, let rate = rule.bytesPerSecond {
                policy.bytesPerSecond = min(policy.bytesPerSecond ?? rate, rate)
            }
        }
        return policy
    }

    private func validate(_ rule: FaultRule) throws(FaultRuleError) {
        if let ttl = rule.ttlNanoseconds, ttl <= 0 {
            throw FaultRuleError(description: "ttl must be positive, like 30s")
        }
        func known(_ name: String?, _ field: String) throws(FaultRuleError) -> String {
            guard let name else { throw FaultRuleError(description: "\(rule.kind.rawValue) needs '\(field)'") }
            guard hosts.contains(name) else {
                throw FaultRuleError(description: "unknown host '\(name)' in '\(field)' (hosts: \(hosts.sorted().joined(separator: ", ")))")
            }
            return name
        }
        switch rule.kind {
        case .partition:
            guard let groups = rule.groups, !groups.isEmpty else {
                throw FaultRuleError(description: "partition needs groups, like etcd-1,etcd-2/etcd-3")
            }
            var seen: Set<String> = []
            for group in groups {
                for host in group {
                    _ = try known(host, "groups")
                    guard seen.insert(host).inserted else { throw FaultRuleError(description: "host '\(host)' is in two groups") }
                }
            }
        case .isolate:
            _ = try known(rule.host, "host")
        case .cut:
            let source = try known(rule.from, "from"), target = try known(rule.to, "to")
            guard source != target else { throw FaultRuleError(description: "cut needs two different hosts") }
        case .latency:
            _ = try known(rule.from, "from")
            _ = try known(rule.to, "to")
            guard let delay = rule.delayNanoseconds, delay > 0, delay <= 60 * Time.second else {
                throw FaultRuleError(description: "latency needs a delay between 1ns and 60s, like 200ms")
            }
            guard (rule.jitterNanoseconds ?? 0) >= 0, (rule.jitterNanoseconds ?? 0) <= delay else {
                throw FaultRuleError(description: "latency jitter must be between 0 and the delay")
            }
        case .bandwidth:
            _ = try known(rule.from, "from")
            _ = try known(rule.to, "to")
            guard let rate = rule.bytesPerSecond, rate >= 1 else {
                throw FaultRuleError(description: "bandwidth needs a rate of at least 1 byte per second, like 1MB/s")
            }
        }
    }
}
