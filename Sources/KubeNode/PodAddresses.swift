//! Pod addresses on one node: handed out from the node's pod CIDR, one per pod, and taken back
//! when the pod is gone. Shared by the hollow kubelet (HollowPods) and the real pod runtime
//! (Runtime/PodRuntime), so both number their pods the same way.
//!
//! The first host address of the range is skipped: on a real CNI bridge it is the node's
//! gateway. A node without a pod CIDR gives every pod the host's own address, as a kubelet
//! without a network plugin (or a hostNetwork pod) would.

import KubeAPI

public struct PodAddresses: Sendable {
    public let hostIP: String
    /// Nil when the node has no pod CIDR (or it does not parse): pods share `hostIP`.
    public let range: IPv4Range?
    /// uid → the address the pod holds.
    private var addressOf: [String: UInt32] = [:]

    public init(hostIP: String, podCIDR: String?) {
        self.hostIP = hostIP
        range = podCIDR.flatMap(IPv4Range.init(cidr:))
    }

    /// Whether pods get the host's address rather than one of their own (so nothing is added
    /// to or removed from the node's interfaces for them).
    public var sharesHostAddress: Bool { range == nil }

    /// How many pods hold an address.
    public var inUse: Int { addressOf.count }

    /// The address `uid` holds, if any.
    public func address(of uid: String) -> String? { addressOf[uid].map(IPv4Range.format) }

    /// The pod's address: the one it holds, else the lowest free one; nil when the range is full.
    public mutating func allocate(_ uid: String) -> String? {
        if let existing = addressOf[uid] { return IPv4Range.format(existing) }
        guard let range else {
            guard let host = IPv4Range.parse(hostIP) else { return nil }
            addressOf[uid] = host
            return hostIP
        }
        let gateway = range.network &+ 1
        guard let free = range.first(notIn: Set(addressOf.values).union([gateway])) else { return nil }
        addressOf[uid] = free
        return IPv4Range.format(free)
    }

    /// Keeps the address a pod was given by an earlier run of this kubelet, so it does not change
    /// under the pod. Refused (false) when it is not an address this node gives out, or another
    /// pod holds it.
    @discardableResult
    public mutating func adopt(_ uid: String, address: String) -> Bool {
        guard let parsed = IPv4Range.parse(address) else { return false }
        if let range {
            guard range.contains(parsed), parsed != range.network &+ 1 else { return false }
        } else if address != hostIP {
            return false
        }
        if addressOf[uid] == parsed { return true }
        if range != nil, addressOf.contains(where: { $0.key != uid && $0.value == parsed }) { return false }
        addressOf[uid] = parsed
        return true
    }

    /// Frees the pod's address for the next pod.
    public mutating func release(_ uid: String) { addressOf[uid] = nil }
}
