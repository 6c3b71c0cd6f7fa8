//! The rule kinds and what each one does to a directed link.

import Base

/// What a rule does.
public enum FaultKind: Equatable, Sendable {
    /// Hosts in different groups cannot talk, in either direction. Hosts named in no group form
    /// one more group together, so `partition([["etcd-1"]])` splits etcd-1 from everyone else
    /// and `partition([["a","b"],["c"]])` on a five-host topology yields {a,b} | {c} | {d,e}.
    case partition(groups: [[HostName]], mode: BlockMode)
    /// The host can talk to no other member host, in either direction (its links to itself stay
    /// open). Its links with the `client` host (the user's shell and the workload) stay open too
    /// unless `includeClient`: like Jepsen's isolation, the clients still see the lone node, which
    /// is how a stale leader gets caught serving.
    case isolate(host: HostName, mode: BlockMode, includeClient: Bool = false)
    /// One way: bytes from -> to stop, to -> from still flow. Either side may be `*`.
    case cut(from: HostName, to: HostName, mode: BlockMode)
    /// A set of one-way cuts: what `FaultRule.bridge` and `FaultRule.majoritiesRing` expand to.
    case cuts(links: [Link], mode: BlockMode)
    /// Every chunk from -> to waits `delay` ± `jitter` (uniform), order preserved.
    case latency(from: HostName, to: HostName, delay: Nanoseconds, jitter: Nanoseconds)
    /// Bytes from -> to flow at most this fast.
    case bandwidth(from: HostName, to: HostName, bytesPerSecond: Int64)
    /// One-shot: connections dialled from `from` to `to` that are open now are reset (RST on both
    /// sides). Never stored: adding it yields a `ResetAction`.
    case reset(from: HostName, to: HostName)

    /// The name used in JSON and on the command line.
    public var name: String {
        switch self {
        case .partition: "partition"
        case .isolate: "isolate"
        case .cut: "cut"
        case .cuts: "cuts"
        case .latency: "latency"
        case .bandwidth: "bandwidth"
        case .reset: "reset"
        }
    }

    /// Every host the rule names (wildcards excluded), for validation against the topology.
    public var hosts: [HostName] {
        switch self {
        case .partition(let groups, _): return groups.flatMap { $0 }
        case .isolate(let host, _, _): return [host]
        case .cut(let from, let to, _), .latency(let from, let to, _, _), .bandwidth(let from, let to, _),
            .reset(let from, let to):
            return [from, to].filter { $0 != anyHost }
        case .cuts(let links, _): return links.flatMap { [$0.from, $0.to] }.filter { $0 != anyHost }
        }
    }
}

/// A rule as a client writes it: what it does, for how long, and how likely it applies.
public struct FaultRule: Equatable, Sendable {
    public var kind: FaultKind
    /// The rule expires this long after it was added; nil keeps it until removed.
    public var ttl: Nanoseconds?
    /// The chance the rule applies, 0...1; nil means always. Blocking and bandwidth rules decide
    /// once per connection (a connection is either affected for its whole life or not at all),
    /// latency rules once per chunk, reset actions once per open connection.
    public var probability: Double?

    public init(_ kind: FaultKind, ttl: Nanoseconds? = nil, probability: Double? = nil) {
        self.kind = kind
        self.ttl = ttl
        self.probability = probability
    }

    // MARK: - Constructors for the compound nemeses

    /// Two groups that cannot talk to each other, and one host that talks to both (Jepsen's
    /// bridge): the directed links between the groups are cut both ways; the bridge is untouched.
    public static func bridge(_ left: [HostName], _ right: [HostName], via bridge: HostName, mode: BlockMode = .blackhole,
        ttl: Nanoseconds? = nil, probability: Double? = nil) throws(FaultError) -> FaultRule
    {
        guard !left.isEmpty, !right.isEmpty else { throw FaultError("bridge needs two non-empty groups") }
        guard Set(left).isDisjoint(with: right) else { throw FaultError("bridge groups overlap: \(left) and \(right)") }
        guard !left.contains(bridge), !right.contains(bridge) else {
            throw FaultError("the bridge host '\(bridge)' must not be in either group")
        }
        var links: [Link] = []
        for a in left { for b in right { links += [Link(from: a, to: b), Link(from: b, to: a)] } }
        return FaultRule(.cuts(links: links.sorted(), mode: mode), ttl: ttl, probability: probability)
    }

    /// Every host sees a majority, but no two hosts see the same one (Jepsen's
    /// `majorities-ring-perfect`, without its shuffle: `hosts` is the ring order, shuffle it with
    /// a `SeededRandom` first for a random ring). With m = n/2+1, each window of m consecutive
    /// hosts is the majority its middle host (index m/2) sees; that host drops bytes from every
    /// host outside its window. For odd m the result is symmetric (5 hosts: each sees its two
    /// neighbours); for even m some links are cut one way only, as in Jepsen.
    public static func majoritiesRing(_ hosts: [HostName], mode: BlockMode = .blackhole, ttl: Nanoseconds? = nil,
        probability: Double? = nil) throws(FaultError) -> FaultRule
    {
        guard hosts.count >= 3 else { throw FaultError("majorities-ring needs at least 3 hosts (got \(hosts.count))") }
        guard Set(hosts).count == hosts.count else { throw FaultError("majorities-ring names a host twice: \(hosts)") }
        let count = hosts.count
        let majority = count / 2 + 1
        var links: [Link] = []
        for start in 0..<count {
            let window = (0..<majority).map { hosts[(start + $0) % count] }
            let viewer = window[majority / 2]
            for other in hosts where !window.contains(other) { links.append(Link(from: other, to: viewer)) }
        }
        return FaultRule(.cuts(links: links.sorted(), mode: mode), ttl: ttl, probability: probability)
    }

    // MARK: - Matching

    /// The blocking this rule asks for on `from -> to`, or nil when it does not block that link.
    func blocking(from: HostName, to: HostName) -> BlockMode? {
        switch kind {
        case .partition(let groups, let mode):
            // Index of the group, with every unnamed host in one more group (-1).
            let fromGroup = groups.firstIndex { $0.contains(from) } ?? -1
            let toGroup = groups.firstIndex { $0.contains(to) } ?? -1
            return fromGroup != toGroup ? mode : nil
        case .isolate(let host, let mode, let includeClient):
            guard from != to, from == host || to == host else { return nil }
            return includeClient || (from != clientHost && to != clientHost) ? mode : nil
        case .cut(let source, let target, let mode):
            return Link(from: source, to: target).covers(from: from, to: to) ? mode : nil
        case .cuts(let links, let mode):
            return links.contains { $0.covers(from: from, to: to) } ? mode : nil
        case .latency, .bandwidth, .reset:
            return nil
        }
    }

    // MARK: - Validation

    /// Checks the rule on its own and against `hosts` (when the table knows them).
    public func validate(hosts known: Set<HostName>?, limits: FaultLimits = FaultLimits()) throws(FaultError) {
        if let probability, !(probability > 0 && probability <= 1) {
            throw FaultError("probability must be in (0, 1], got \(probability)")
        }
        if let ttl, ttl <= 0 { throw FaultError("ttl must be positive") }
        for host in kind.hosts where host.isEmpty { throw FaultError("\(kind.name): empty host name") }
        switch kind {
        case .partition(let groups, _):
            guard !groups.isEmpty else { throw FaultError("partition needs at least one group") }
            guard groups.allSatisfy({ !$0.isEmpty }) else { throw FaultError("partition: a group is empty") }
            let named = groups.flatMap { $0 }
            guard Set(named).count == named.count else { throw FaultError("partition: a host is in two groups (use bridge for that)") }
            guard !named.contains(anyHost) else { throw FaultError("partition: '*' is not a host") }
        case .isolate(let host, _, _):
            guard host != anyHost else { throw FaultError("isolate: '*' is not a host") }
        case .cuts(let links, _):
            guard !links.isEmpty else { throw FaultError("cuts needs at least one link") }
        case .latency(_, _, let delay, let jitter):
            guard delay >= 0, jitter >= 0 else { throw FaultError("latency: delay and jitter must not be negative") }
            guard delay <= limits.delayMax, jitter <= limits.delayMax else {
                throw FaultError("latency: delay and jitter must be at most \(FaultText.duration(limits.delayMax))")
            }
        case .bandwidth(_, _, let rate):
            guard rate >= 1 else { throw FaultError("bandwidth must be at least 1 byte per second") }
        case .cut, .reset:
            break
        }
        if let known {
            for host in kind.hosts where !known.contains(host) {
                throw FaultError("unknown host '\(host)' (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }
}

/// A one-shot reset the relay performs once: every open connection dialled on a matching link
/// is reset (each with `probability`, when given).
public struct ResetAction: Equatable, Sendable {
    public var link: Link
    public var probability: Double?
    public init(link: Link, probability: Double? = nil) {
        self.link = link
        self.probability = probability
    }

    /// True when a connection dialled by `from` to `to` is one this action resets.
    public func matches(from: HostName, to: HostName) -> Bool { link.covers(from: from, to: to) }
}
