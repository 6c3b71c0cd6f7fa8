//! The table of active rules and the query the relay asks of it.

import Base

/// A rule in force, with the id the table gave it and when it expires.
public struct ActiveRule: Equatable, Sendable {
    public var id: String
    public var rule: FaultRule
    public var added: Nanoseconds
    /// Invariant: nil exactly when `rule.ttl` is nil; otherwise `added + ttl`.
    public var expires: Nanoseconds?

    /// True when the rule is no longer in force at `now`.
    public func expired(at now: Nanoseconds) -> Bool { expires.map { now >= $0 } ?? false }
}

/// What a directed link does to its bytes right now.
public struct LinkPolicy: Equatable, Sendable, CustomStringConvertible {
    /// One latency rule's contribution: every chunk waits `delay` ± `jitter` with `probability`.
    public struct Latency: Equatable, Sendable {
        public var delay: Nanoseconds
        public var jitter: Nanoseconds
        public var probability: Double?
    }

    public var blocking: Blocking = .open
    /// Latency rules in force, in rule order; their delays add.
    public var latencies: [Latency] = []
    /// The lowest bandwidth cap in force; nil means unlimited.
    public var bytesPerSecond: Int64?

    public init() {}
    public static let open = LinkPolicy()

    /// Total delay of every latency rule (before jitter, ignoring probabilities).
    public var delay: Nanoseconds { latencies.reduce(0) { $0 + $1.delay } }
    /// Total jitter of every latency rule.
    public var jitter: Nanoseconds { latencies.reduce(0) { $0 + $1.jitter } }
    /// True when bytes pass untouched: nothing blocks, delays or paces them.
    public var isClear: Bool { blocking == .open && latencies.isEmpty && bytesPerSecond == nil }

    /// How long one chunk waits: each latency rule that applies to it (its probability drawn
    /// from `random`) adds its delay plus a uniform jitter in -jitter...+jitter, never below 0.
    /// The relay keeps order by never letting a chunk be due before the chunk ahead of it.
    public func chunkDelay(random: inout SeededRandom) -> Nanoseconds {
        var total: Nanoseconds = 0
        for latency in latencies {
            if let probability = latency.probability, !random.chance(probability) { continue }
            var delay = latency.delay
            if latency.jitter > 0 { delay += random.int64(in: -latency.jitter...latency.jitter) }
            total += max(0, delay)
        }
        return total
    }

    public var description: String {
        var parts = ["blocked=\(blocking)"]
        if !latencies.isEmpty { parts.append("delay=\(FaultText.duration(delay))±\(FaultText.duration(jitter))") }
        if let bytesPerSecond { parts.append("bytes_per_second=\(bytesPerSecond)") }
        return parts.joined(separator: " ")
    }
}

/// One connection's decisions about probabilistic rules: each rule with a probability is drawn
/// once, the first time the connection meets it, and the answer sticks for the connection's life
/// (a connection is either partitioned or not; it does not flicker).
public struct RuleDraws: Sendable {
    public var random: SeededRandom
    /// Rule id -> whether the rule applies to this connection.
    public private(set) var decided: [String: Bool] = [:]

    public init(random: SeededRandom) { self.random = random }

    mutating func applies(_ active: ActiveRule) -> Bool {
        guard let probability = active.rule.probability, probability < 1 else { return true }
        if let known = decided[active.id] { return known }
        let drawn = random.chance(probability)
        decided[active.id] = drawn
        return drawn
    }
}

/// The result of an atomic update: the ids of the rules stored and the one-shot resets to do.
public struct FaultChange: Equatable, Sendable {
    /// One entry per rule given, in order: the stored rule's id, or nil for a reset action.
    public var ids: [String?] = []
    public var resets: [ResetAction] = []
}

/// The active rules: add (several atomically), remove by id, heal all, expire by TTL; and the
/// policy of a directed link. Every change bumps `version`, which the relay polls cheaply.
public struct FaultTable: Sendable {
    /// The hosts rules may name; nil accepts any name.
    public let hosts: Set<HostName>?
    public let limits: FaultLimits
    /// Rules in force, in the order they were added (ids increase).
    public private(set) var rules: [ActiveRule] = []
    /// Bumped by every change to `rules`. Invariant: never decreases.
    public private(set) var version: UInt64 = 0
    /// Invariant: every id handed out is "r\(n)" for some n < nextNumber, never reused.
    private var nextNumber = 1

    public init(hosts: [HostName]? = nil, limits: FaultLimits = FaultLimits()) {
        self.hosts = hosts.map(Set.init)
        self.limits = limits
    }

    // MARK: - Changes

    /// Adds every rule or none: each is validated first, and one bad rule refuses the update.
    /// Reset rules are not stored; they come back as actions for the relay to perform once.
    public mutating func add(_ newRules: [FaultRule], now: Nanoseconds) throws(FaultError) -> FaultChange {
        guard !newRules.isEmpty else { throw FaultError("no rules given") }
        guard newRules.count <= limits.rulesPerUpdateMax else {
            throw FaultError("\(newRules.count) rules in one update; at most \(limits.rulesPerUpdateMax)")
        }
        for (position, rule) in newRules.enumerated() {
            do {
                try rule.validate(hosts: hosts, limits: limits)
            } catch {
                throw newRules.count == 1 ? error : FaultError("rule \(position + 1): \(error.message)")
            }
        }
        let stored = newRules.filter { if case .reset = $0.kind { false } else { true } }.count
        guard rules.count + stored <= limits.rulesMax else {
            throw FaultError("the table holds at most \(limits.rulesMax) rules (\(rules.count) active)")
        }
        var change = FaultChange()
        for rule in newRules {
            if case .reset(let from, let to) = rule.kind {
                change.ids.append(nil)
                change.resets.append(ResetAction(link: Link(from: from, to: to), probability: rule.probability))
                continue
            }
            let id = "r\(nextNumber)"
            nextNumber += 1
            rules.append(ActiveRule(id: id, rule: rule, added: now, expires: rule.ttl.map { now + $0 }))
            change.ids.append(id)
        }
        if stored > 0 { version += 1 }
        precondition(change.ids.count == newRules.count, "one id slot per rule: \(change.ids.count) for \(newRules.count)")
        return change
    }

    /// Removes one rule; false when no active rule has that id.
    @discardableResult
    public mutating func remove(id: String) -> Bool {
        guard let position = rules.firstIndex(where: { $0.id == id }) else { return false }
        rules.remove(at: position)
        version += 1
        return true
    }

    /// Heals everything; answers how many rules were removed.
    @discardableResult
    public mutating func removeAll() -> Int {
        let count = rules.count
        rules.removeAll()
        version += 1
        return count
    }

    /// Drops the rules whose TTL ran out by `now`; answers their ids.
    @discardableResult
    public mutating func expire(now: Nanoseconds) -> [String] {
        let gone = rules.filter { $0.expired(at: now) }.map(\.id)
        guard !gone.isEmpty else { return [] }
        rules.removeAll { $0.expired(at: now) }
        version += 1
        return gone
    }

    /// The earliest instant a rule expires, for a shell that sleeps until then.
    public var nextExpiry: Nanoseconds? { rules.compactMap(\.expires).min() }

    public func rule(id: String) -> ActiveRule? { rules.first { $0.id == id } }

    // MARK: - The relay's question

    /// The policy of `from -> to` at `now`, with every probabilistic rule counted as applying
    /// (the worst case; a connection's own view comes from `policy(from:to:now:draws:)`).
    public func policy(from: HostName, to: HostName, now: Nanoseconds) -> LinkPolicy {
        compute(from: from, to: to, now: now) { _ in true }
    }

    /// The policy of `from -> to` at `now` as one connection sees it: rules with a probability
    /// apply or not according to the connection's draws (latency rules are drawn per chunk by
    /// `LinkPolicy.chunkDelay` instead). Rules past their expiry no longer count even before
    /// `expire(now:)` removes them.
    public func policy(from: HostName, to: HostName, now: Nanoseconds, draws: inout RuleDraws) -> LinkPolicy {
        compute(from: from, to: to, now: now) { draws.applies($0) }
    }

    private func compute(from: HostName, to: HostName, now: Nanoseconds, applies: (ActiveRule) -> Bool) -> LinkPolicy {
        var policy = LinkPolicy()
        for active in rules where !active.expired(at: now) {
            switch active.rule.kind {
            case .partition, .isolate, .cut, .cuts:
                guard let mode = active.rule.blocking(from: from, to: to), applies(active) else { continue }
                policy.blocking = max(policy.blocking, Blocking(mode))
            case .latency(let source, let target, let delay, let jitter):
                guard Link(from: source, to: target).covers(from: from, to: to) else { continue }
                policy.latencies.append(.init(delay: delay, jitter: jitter, probability: active.rule.probability))
            case .bandwidth(let source, let target, let rate):
                guard Link(from: source, to: target).covers(from: from, to: to), applies(active) else { continue }
                policy.bytesPerSecond = min(policy.bytesPerSecond ?? rate, rate)
            case .reset:
                fatalError("unreachable: reset rule \(active.id) stored in the table")
            }
        }
        return policy
    }
}
