//! IPv4 ranges written as CIDRs: the Service cluster-IP range the apiserver allocates from and
//! the pod CIDR a kubelet gives its pods' addresses from.

public struct IPv4Range: Sendable, Equatable {
    /// The network address and the number of addresses in the range (network and broadcast included).
    public let network: UInt32
    public let size: UInt32

    /// A range from `a.b.c.d/n` with n from 8 to 30; nil otherwise.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = UInt32(parts[1]), (8...30).contains(bits), let base = Self.parse(String(parts[0])) else { return nil }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        network = base & mask
        size = ~mask &+ 1
    }

    public static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 <= 255 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }

    public static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xff) }.joined(separator: ".")
    }

    /// Whether `address` is a host address of the range (not the network or broadcast address).
    public func contains(_ address: UInt32) -> Bool { address > network && address < network &+ size &- 1 }

    /// The lowest free address (skipping the network and broadcast addresses), nil when full.
    public func first(notIn used: Set<UInt32>) -> UInt32? {
        var candidate = network &+ 1
        while candidate < network &+ size &- 1 {
            if !used.contains(candidate) { return candidate }
            candidate &+= 1
        }
        return nil
    }
}
