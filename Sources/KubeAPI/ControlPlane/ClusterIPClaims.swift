//! Cluster IPs claimed in the store: before a Service is written with an address, the apiserver
//! creates a key for the address (create-only, so of two apiservers allocating at once exactly
//! one wins) whose value names the Service. The key goes when the Service does.
//!
//! A claim can outlive its Service's create (the apiserver crashed between the two writes, or a
//! write's answer was lost) or be missing for a Service (written before claims existed). The
//! repair pass, run now and then like kube-apiserver's cluster-IP repair controller
//! (`pkg/registry/core/service/ipallocator/controller/repair.go`), mends both: a Service's
//! address without a claim gets one; a claim no Service holds is freed once it has been seen
//! unheld, unchanged, in `passesBeforeLeakCleanup` passes in a row (so that a Service being
//! created right now — claim written, Service not yet — is never robbed of its address).
//!
//! Pure: the shell lists the claims and the Services and carries out the plan.

import Wire

/// Whose a claimed address is.
public struct ClusterIPClaim: Equatable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// The Service's uid; empty for the `kubernetes` Service's address, which stays claimed for
    /// whichever `default/kubernetes` the bootstrap controller creates.
    public var uid: String

    public init(namespace: String, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// The claim of the Service `service` (nil: an object with no name).
    public init?(service: JSONValue) {
        guard let name = service.stringMember("metadata", "name"), !name.isEmpty else { return nil }
        self.init(namespace: service.stringMember("metadata", "namespace") ?? "", name: name,
            uid: service.stringMember("metadata", "uid") ?? "")
    }

    /// The claim of the `kubernetes` Service's address.
    public static let kubernetesService = ClusterIPClaim(namespace: KubernetesService.namespace, name: KubernetesService.name, uid: "")

    /// The value stored at the claim's key: `{"address":…,"service":{"namespace":…,"name":…,"uid":…}}`
    /// (the address too, since a listing of the claims gives values, not keys).
    public func record(address: UInt32) -> JSONValue {
        .object(["address": .string(IPv4Range.format(address)),
            "service": .object(["namespace": .string(namespace), "name": .string(name), "uid": .string(uid)])])
    }

    /// The claim a stored value names; nil when it names none.
    public init?(record: JSONValue) {
        guard let name = record.stringMember("service", "name"), !name.isEmpty else { return nil }
        self.init(namespace: record.stringMember("service", "namespace") ?? "", name: name,
            uid: record.stringMember("service", "uid") ?? "")
    }

    /// The address a stored value is for; nil when it has none.
    public static func address(ofRecord record: JSONValue) -> UInt32? {
        record.stringMember("address").flatMap(IPv4Range.parse)
    }

    /// Whether `service` is the Service this claim names: the same uid, or for a claim without
    /// one the same namespace and name.
    public func names(_ service: JSONValue) -> Bool {
        if !uid.isEmpty { return service.stringMember("metadata", "uid") == uid }
        return service.stringMember("metadata", "namespace") == namespace && service.stringMember("metadata", "name") == name
    }

    public var description: String { "\(namespace)/\(name)" }

    /// The cluster IPs `service` holds in `range` (`spec.clusterIPs`, else `spec.clusterIP`).
    public static func addresses(of service: JSONValue, in range: IPv4Range) -> [UInt32] {
        var texts = service.arrayMember("spec", "clusterIPs").compactMap(\.asString)
        if texts.isEmpty, let single = service.stringMember("spec", "clusterIP") { texts = [single] }
        var result: [UInt32] = []
        for text in texts {
            if let address = IPv4Range.parse(text), range.contains(address), !result.contains(address) { result.append(address) }
        }
        return result
    }
}

/// The repair pass's memory: the claims it found unheld, and in how many passes in a row.
public struct ClusterIPRepair: Sendable {
    /// kube-apiserver's `numRepairsBeforeLeakCleanup`.
    public static let passesBeforeLeakCleanup = 3

    /// One claim as listed: its address, what it names (nil: unreadable), its key's mod revision.
    public struct StoredClaim: Equatable, Sendable {
        public var address: UInt32
        public var claim: ClusterIPClaim?
        public var revision: Int64

        public init(address: UInt32, claim: ClusterIPClaim?, revision: Int64) {
            self.address = address
            self.claim = claim
            self.revision = revision
        }
    }

    public struct Plan: Equatable, Sendable {
        /// Addresses Services hold without a claim: claim them for these (create-only).
        public var missing: [(address: UInt32, claim: ClusterIPClaim)] = []
        /// Claims no Service has held for `passesBeforeLeakCleanup` passes: delete each if its
        /// key is still at this revision.
        public var leaked: [(address: UInt32, revision: Int64)] = []
        /// Addresses two Services hold, with both (found, reported, left alone: which one to
        /// renumber is a person's call, as in Kubernetes).
        public var duplicates: [(address: UInt32, services: [String])] = []

        public init() {}

        public static func == (left: Plan, right: Plan) -> Bool {
            left.missing.map { "\($0.address) \($0.claim)" } == right.missing.map { "\($0.address) \($0.claim)" }
                && left.leaked.map { "\($0.address)@\($0.revision)" } == right.leaked.map { "\($0.address)@\($0.revision)" }
                && left.duplicates.map { "\($0.address) \($0.services)" } == right.duplicates.map { "\($0.address) \($0.services)" }
        }
    }

    /// Claims seen unheld: the revision they were seen at and how many passes in a row.
    private var suspects: [UInt32: (revision: Int64, passes: Int)] = [:]

    public init() {}

    /// How many claims are being watched as possible leaks.
    public var suspectCount: Int { suspects.count }

    /// One pass over what the store holds. `services` should be listed before `claims`, so that
    /// a claim for a Service created between the two reads is at worst suspected once.
    /// `reserved` (the `kubernetes` Service's address) is never freed.
    public mutating func pass(claims: [StoredClaim], services: [JSONValue], range: IPv4Range, reserved: UInt32) -> Plan {
        var plan = Plan()
        var holders: [UInt32: [JSONValue]] = [:]
        for service in services {
            for address in ClusterIPClaim.addresses(of: service, in: range) { holders[address, default: []].append(service) }
        }
        let claimed = Dictionary(claims.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        for (address, services) in holders.sorted(by: { $0.key < $1.key }) {
            if services.count > 1 {
                plan.duplicates.append((address, services.map { ClusterIPClaim(service: $0)?.description ?? "?" }))
            }
            guard claimed[address] == nil else { continue }
            let owner = address == reserved ? ClusterIPClaim.kubernetesService : ClusterIPClaim(service: services[0])
            if let owner { plan.missing.append((address, owner)) }
        }
        var seen = Set<UInt32>()
        for stored in claims.sorted(by: { $0.address < $1.address }) {
            seen.insert(stored.address)
            let held = stored.address == reserved
                || (stored.claim.map { claim in (holders[stored.address] ?? []).contains { claim.names($0) } } ?? false)
            if held {
                suspects[stored.address] = nil
                continue
            }
            var suspect = suspects[stored.address] ?? (stored.revision, 0)
            if suspect.revision != stored.revision { suspect = (stored.revision, 0) }  // rewritten since: a new claim
            suspect.passes += 1
            if suspect.passes >= Self.passesBeforeLeakCleanup {
                plan.leaked.append((stored.address, stored.revision))
                suspects[stored.address] = nil
            } else {
                suspects[stored.address] = suspect
            }
        }
        // A suspect whose claim is gone (released, or freed by another apiserver) is forgotten.
        suspects = suspects.filter { seen.contains($0.key) }
        precondition(suspects.count <= claims.count, "more suspects (\(suspects.count)) than claims (\(claims.count))")
        return plan
    }
}
