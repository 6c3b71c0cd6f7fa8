//! Pod networks: which host owns a pod address, and what the fault proxy does with a connection
//! that arrived on one of its pod ports.
//!
//! In namespace mode host N's pods get addresses from 10.244.N.0/24 (kubelet `--pod-cidr`), put
//! on `lo` inside host N's namespace. Other hosts reach them only through the switch namespace,
//! where the whole pod supernet is local, so a connection to any pod address lands on the proxy's
//! pod listener. Which host the connection is for follows from the address it was sent to (the
//! pod network that contains it); who sent it from its source address, as for service traffic.
//! These are pure decisions, so they are tested without sockets.

/// An IPv4 address as a 32-bit number (most significant octet first); parsed by hand so that
/// this target needs no C library.
public enum IPv4 {
    /// `10.244.1.2` -> 0x0AF4_0102; nil unless exactly four decimal octets 0...255.
    public static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            // At most three digits, so "0001" or a 30-digit number cannot sneak through.
            guard (1...3).contains(octet.count), octet.allSatisfy({ ("0"..."9").contains($0) }), let number = UInt32(octet),
                number <= 255
            else { return nil }
            value = value << 8 | number
        }
        return value
    }

    /// 0x0AF4_0102 -> `10.244.1.2`.
    public static func text(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xFF) }.joined(separator: ".")
    }
}

/// A block of IPv4 addresses in CIDR notation, such as `10.244.1.0/24`.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    /// The first address. Invariant: its host bits (those past `prefixLength`) are zero.
    public let base: UInt32
    /// Invariant: 0...32.
    public let prefixLength: Int

    /// Parses `A.B.C.D/L`; nil when the text is not one, or has host bits set (`10.244.1.7/24`
    /// is refused rather than silently read as `10.244.1.0/24`).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let base = IPv4.parse(String(parts[0])), parts[1].count <= 2,
            parts[1].allSatisfy({ ("0"..."9").contains($0) }), let length = Int(parts[1]), (0...32).contains(length)
        else { return nil }
        let network = IPv4Network(base: base & Self.mask(length), prefixLength: length)
        guard network.base == base else { return nil }
        self = network
    }

    public init(base: UInt32, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "prefix length \(prefixLength) outside 0...32")
        precondition(base & ~Self.mask(prefixLength) == 0, "\(IPv4.text(base))/\(prefixLength) has host bits set")
        self.base = base
        self.prefixLength = prefixLength
    }

    /// The network bits of a /`length`: 0 for /0, all ones for /32.
    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    public func contains(_ address: UInt32) -> Bool { address & Self.mask(prefixLength) == base }

    /// True when some address lies in both (for CIDR blocks: one contains the other).
    public func overlaps(_ other: IPv4Network) -> Bool { contains(other.base) || other.contains(base) }

    public var description: String { "\(IPv4.text(base))/\(prefixLength)" }
}

/// Every host's pod network. Invariant: no two networks overlap, so an address has at most one
/// owner.
public struct PodNetworks: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var host: HostName
        public var network: IPv4Network

        public init(host: HostName, network: IPv4Network) {
            self.host = host
            self.network = network
        }
    }

    /// Sorted by network, so a listing or an error message is the same on every run.
    public let entries: [Entry]

    /// Refuses overlapping networks (their shared addresses would belong to two hosts) and a host
    /// with two networks (a kubelet has one `--pod-cidr`).
    public init(_ entries: [Entry]) throws(FaultError) {
        let sorted = entries.sorted { ($0.network.base, $0.network.prefixLength, $0.host) < ($1.network.base, $1.network.prefixLength, $1.host) }
        var hosts: Set<HostName> = []
        for entry in sorted {
            guard hosts.insert(entry.host).inserted else { throw FaultError("host \(entry.host) has two pod networks") }
        }
        for (first, second) in zip(sorted, sorted.dropFirst()) where first.network.overlaps(second.network) {
            throw FaultError("pod networks \(first.network) (\(first.host)) and \(second.network) (\(second.host)) overlap")
        }
        self.entries = sorted
    }

    /// No pod networks (loopback mode, or a proxy without pod traffic).
    public init() { entries = [] }

    public var isEmpty: Bool { entries.isEmpty }

    /// The host whose pod network contains `address`; nil for any other address (or not IPv4).
    public func owner(of address: String) -> HostName? {
        guard let value = IPv4.parse(address) else { return nil }
        return entries.first { $0.network.contains(value) }?.host
    }

    /// The host a caller is: the one that claims its address (`sources`), else the one whose
    /// pods the address belongs to (a pod that dials from its own address).
    public func sourceHost(of peer: String, sources: [String: HostName]) -> HostName? {
        sources[peer] ?? owner(of: peer)
    }

    /// What to do with a connection accepted on a pod port from `peer`, sent to `destination`
    /// (the address it was addressed to, from getsockname).
    public func decide(peer: String, destination: String, sources: [String: HostName]) -> PodConnectionDecision {
        guard let target = owner(of: destination) else { return .notAPodAddress }
        guard let source = sourceHost(of: peer, sources: sources) else { return .unknownSource }
        guard source != target else { return .ownHost(target) }
        return .relay(source: source, destination: target)
    }
}

/// The proxy's decision for a connection accepted on a pod port.
public enum PodConnectionDecision: Equatable, Sendable {
    /// Relay it under the rules of the link `source -> destination`, to the address it was sent to.
    case relay(source: HostName, destination: HostName)
    /// Sent to an address no pod network holds (a pod listener accepts on every local address,
    /// including the switch's own): reset it.
    case notAPodAddress
    /// From an address no host claims: reset it. Unlike service traffic, which is relayed and
    /// named by its address, this is refused: pod traffic comes from a host's real address or a
    /// pod address, and anything else on a pod port can only be the switch's own traffic (the
    /// proxy's own dial come back, say), which relaying would loop until descriptors run out.
    case unknownSource
    /// For a pod address of the caller's own host: reset it. A pod that exists there is answered
    /// by the host's own `lo` and never reaches the switch, so the address has no pod; and a
    /// dial of the proxy's own that missed its mark comes back from the pod address itself,
    /// which this refuses instead of relaying in a loop.
    case ownHost(HostName)
}
