//! Amounts of compute resources as the scheduler adds them up: CPU in millicores, memory and
//! ephemeral storage in bytes, and extended resources (`nvidia.com/gpu`, `hugepages-2Mi`) in
//! whole units, read from a `resources.requests` or `status.allocatable` object.

import KubeAPI
import Wire

/// A vector of resource amounts. Extended resources are kept only when named, so the common
/// CPU-and-memory case costs no dictionary work.
public struct ResourceAmounts: Sendable, Equatable {
    public var milliCPU: Int64 = 0
    /// Bytes.
    public var memory: Int64 = 0
    /// Bytes.
    public var ephemeralStorage: Int64 = 0
    /// Extended and huge-page resources by name, in whole units.
    public var scalar: [String: Int64] = [:]

    public init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, scalar: [String: Int64] = [:]) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.scalar = scalar
    }

    /// The amounts of a resource list (`{"cpu": "500m", "memory": "1Gi"}`); unparsable
    /// quantities and names the scheduler does not count (`pods`, `storage`) are skipped.
    public init(resourceList: JSONValue?) {
        guard let list = resourceList?.asObject else { return }
        for (name, value) in list.members {
            guard let quantity = ResourceQuantity(json: value) else { continue }
            switch name {
            case "cpu": milliCPU += quantity.milliValue
            case "memory": memory += quantity.value
            case "ephemeral-storage": ephemeralStorage += quantity.value
            default:
                if Self.isScalarResource(name) { scalar[name, default: 0] += quantity.value }
            }
        }
    }

    /// Whether every amount is zero (a best-effort pod's requests).
    public var isZero: Bool {
        milliCPU == 0 && memory == 0 && ephemeralStorage == 0 && scalar.values.allSatisfy { $0 == 0 }
    }

    /// Kubernetes counts domain-prefixed resources (extended ones such as `nvidia.com/gpu` and
    /// prefixed native ones), huge pages and attachable volumes beside CPU, memory and
    /// ephemeral storage; bare names it does not know (`pods`, `storage`) are not requests.
    static func isScalarResource(_ name: String) -> Bool {
        name.contains("/") || name.hasPrefix("hugepages-") || name.hasPrefix("attachable-volumes-")
    }

    public static func + (left: ResourceAmounts, right: ResourceAmounts) -> ResourceAmounts {
        var sum = left
        sum.add(right)
        return sum
    }

    public mutating func add(_ other: ResourceAmounts) {
        milliCPU += other.milliCPU
        memory += other.memory
        ephemeralStorage += other.ephemeralStorage
        for (name, amount) in other.scalar { scalar[name, default: 0] += amount }
    }

    public mutating func subtract(_ other: ResourceAmounts) {
        milliCPU -= other.milliCPU
        memory -= other.memory
        ephemeralStorage -= other.ephemeralStorage
        for (name, amount) in other.scalar {
            let remaining = scalar[name, default: 0] - amount
            scalar[name] = remaining == 0 ? nil : remaining
        }
    }

    /// Raises each amount to `other`'s where that is larger (init containers run one at a time).
    public mutating func raise(to other: ResourceAmounts) {
        milliCPU = max(milliCPU, other.milliCPU)
        memory = max(memory, other.memory)
        ephemeralStorage = max(ephemeralStorage, other.ephemeralStorage)
        for (name, amount) in other.scalar { scalar[name] = max(scalar[name, default: 0], amount) }
    }
}
