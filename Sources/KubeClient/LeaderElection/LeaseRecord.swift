//! The leader-election record a coordination.k8s.io/v1 Lease carries in its spec, as
//! client-go's leaderelection reads and writes it: holderIdentity, leaseDurationSeconds,
//! acquireTime and renewTime (MicroTime), leaseTransitions. Pure.

import KubeAPI
import Wire

public struct LeaseRecord: Sendable, Equatable {
    /// Who holds the lease; "" when nobody (released).
    public var holderIdentity: String
    public var leaseDurationSeconds: Int64
    /// MicroTime text; nil when unset.
    public var acquireTime: String?
    public var renewTime: String?
    /// How many times the lease changed hands.
    public var leaseTransitions: Int64

    public init(holderIdentity: String, leaseDurationSeconds: Int64, acquireTime: String?, renewTime: String?, leaseTransitions: Int64) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }

    /// The record in a Lease object's spec (missing fields read as empty and zero).
    public init(lease: JSONValue) {
        holderIdentity = lease.stringMember("spec", "holderIdentity") ?? ""
        leaseDurationSeconds = lease.intMember("spec", "leaseDurationSeconds") ?? 0
        acquireTime = lease.stringMember("spec", "acquireTime")
        renewTime = lease.stringMember("spec", "renewTime")
        leaseTransitions = lease.intMember("spec", "leaseTransitions") ?? 0
    }

    /// The Lease spec of this record.
    public var spec: JSONValue {
        var spec: JSONObject = ["holderIdentity": .string(holderIdentity), "leaseDurationSeconds": .integer(leaseDurationSeconds)]
        if let acquireTime { spec["acquireTime"] = .string(acquireTime) }
        if let renewTime { spec["renewTime"] = .string(renewTime) }
        spec["leaseTransitions"] = .integer(leaseTransitions)
        return .object(spec)
    }
}

/// A Lease as a candidate read it: the record and the object's resourceVersion. Every write to
/// the Lease changes the resourceVersion, so comparing both tells whether anyone wrote since.
public struct ObservedLease: Sendable, Equatable {
    public var record: LeaseRecord
    public var resourceVersion: String

    public init(record: LeaseRecord, resourceVersion: String) {
        self.record = record
        self.resourceVersion = resourceVersion
    }

    public init(lease: JSONValue) {
        self.init(record: LeaseRecord(lease: lease), resourceVersion: lease.stringMember("metadata", "resourceVersion") ?? "")
    }
}
