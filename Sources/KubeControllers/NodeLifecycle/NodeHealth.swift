//! What the node-lifecycle controller remembers about each node, and the step that judges it
//! (Kubernetes' `tryUpdateNodeHealth`).
//!
//! A node is alive while this controller keeps seeing its Ready heartbeat or its lease renew
//! time change. The times recorded are the controller's own monotonic clock at the moment it saw
//! the change, never the timestamps' values, so a kubelet whose clock is minutes off is judged
//! the same as one that is exact. (The lease is the one exception Kubernetes makes: a renewal
//! counts only if its renewTime is later than the last one seen, so a kubelet clock that jumps
//! backwards looks silent until it catches up; that is reproduced.)

import Base
import KubeAPI
import Wire

/// The controller's record of one node.
public struct NodeHealthRecord: Sendable, Equatable {
    /// When this controller last saw a sign of life (status heartbeat or lease renewal changed).
    public var probeTimestamp: Nanoseconds
    /// When this controller last saw the Ready condition change.
    public var readyTransitionTimestamp: Nanoseconds
    /// The Ready condition as last seen or as last written by this controller.
    public var savedReady: ObjectCondition?
    /// The renew time of the last lease counted (microseconds since the epoch), and its text.
    var savedLeaseRenew: Int64?
    var savedLeaseText: String?
}

/// The outcome of judging one node on one pass.
struct NodeHealthJudgement {
    var record: NodeHealthRecord
    /// The Ready condition as read from the node (a stand-in Unknown one when it has none).
    var observedReady: ObjectCondition
    /// The Ready condition after this pass: as read, or as this pass writes it.
    var currentReady: ObjectCondition?
    /// The node with its kubelet conditions turned Unknown, when that must be written.
    var statusUpdate: JSONValue?
}

enum NodeHealthJudge {
    /// Judges `node` against its record (nil the first time) and its lease (nil when none).
    static func judge(
        node: JSONValue, lease: JSONValue?, record existing: NodeHealthRecord?, parameters: NodeLifecycleParameters,
        now: Nanoseconds, wallNow: Int64
    ) -> NodeHealthJudgement {
        let readAsIs = ObjectCondition.of(node, type: NodeLifecycleVocabulary.ready)
        var record = existing
        let observedReady: ObjectCondition
        let gracePeriod: Nanoseconds
        if let readAsIs {
            observedReady = readAsIs
            gracePeriod = parameters.nodeMonitorGracePeriod
        } else {
            // Never posted: measure the startup grace from the node's creation, on our clock.
            let creationText = node.stringMember("metadata", "creationTimestamp")
            observedReady = ObjectCondition(type: NodeLifecycleVocabulary.ready, status: NodeLifecycleVocabulary.conditionUnknown,
                lastHeartbeatTime: creationText, lastTransitionTime: creationText)
            gracePeriod = parameters.nodeStartupGracePeriod
            if record != nil {
                record!.savedReady = nil
            } else {
                let created = creationInstant(creationText, now: now, wallNow: wallNow)
                record = NodeHealthRecord(probeTimestamp: created, readyTransitionTimestamp: created)
            }
        }
        let savedReady = record?.savedReady
        let savedLeaseRenew = record?.savedLeaseRenew
        let savedLeaseText = record?.savedLeaseText
        if record == nil || (savedReady == nil && readAsIs != nil) || (savedReady != nil && readAsIs == nil) {
            // First sight, or the Ready condition appeared or vanished: start counting from now.
            record = NodeHealthRecord(probeTimestamp: now, readyTransitionTimestamp: now, savedReady: readAsIs)
        } else if let savedReady, let readAsIs, savedReady.lastHeartbeatTime != readAsIs.lastHeartbeatTime {
            // A new heartbeat: alive now; a new transition time means Ready changed since last seen.
            let transition = savedReady.lastTransitionTime != readAsIs.lastTransitionTime ? now : record!.readyTransitionTimestamp
            // Kubernetes rebuilds the record here without the lease, so the next lease seen counts.
            record = NodeHealthRecord(probeTimestamp: now, readyTransitionTimestamp: transition, savedReady: readAsIs)
        }
        guard var record else { fatalError("unreachable: node health record is set on every path") }
        if let lease, let leaseText = lease.stringMember("spec", "renewTime") {
            let renew = NodeObjects.renewMicroseconds(lease)
            if leaseRenewed(savedText: savedLeaseText, savedRenew: savedLeaseRenew, text: leaseText, renew: renew) {
                record.savedLeaseText = leaseText
                record.savedLeaseRenew = renew
                record.probeTimestamp = now
            }
        }
        var judgement = NodeHealthJudgement(record: record, observedReady: observedReady, currentReady: readAsIs, statusUpdate: nil)
        guard now > record.probeTimestamp + gracePeriod else { return judgement }
        let (updated, newReady) = markedUnknown(node, wallNow: wallNow)
        judgement.currentReady = newReady
        if newReady != observedReady {
            judgement.statusUpdate = updated
            judgement.record.savedReady = newReady
            judgement.record.readyTransitionTimestamp = now
            if let lease, let leaseText = lease.stringMember("spec", "renewTime") {
                judgement.record.savedLeaseText = leaseText
                judgement.record.savedLeaseRenew = NodeObjects.renewMicroseconds(lease)
            }
        }
        return judgement
    }

    /// Whether a lease counts as renewed: Kubernetes compares renew times and counts only a later
    /// one. A renew time that cannot be read counts when its text changed.
    static func leaseRenewed(savedText: String?, savedRenew: Int64?, text: String, renew: Int64?) -> Bool {
        guard let savedText else { return true }
        if let savedRenew, let renew { return savedRenew < renew }
        return savedText != text
    }

    /// The node with Ready, MemoryPressure, DiskPressure and PIDPressure turned Unknown (added
    /// when missing), and its new Ready condition.
    static func markedUnknown(_ node: JSONValue, wallNow: Int64) -> (JSONValue, ObjectCondition?) {
        let nowText = KubeTime.format(wallNow)
        var conditions = node.arrayMember("status", "conditions")
        for type in NodeLifecycleVocabulary.kubeletConditions {
            if let position = conditions.firstIndex(where: { $0.stringMember("type") == type }) {
                guard case .object(var condition) = conditions[position] else { continue }
                guard condition["status"]?.asString != NodeLifecycleVocabulary.conditionUnknown else { continue }
                condition["status"] = .string(NodeLifecycleVocabulary.conditionUnknown)
                condition["reason"] = .string(NodeLifecycleVocabulary.stoppedPostingReason)
                condition["message"] = .string(NodeLifecycleVocabulary.stoppedPostingMessage)
                condition["lastTransitionTime"] = .string(nowText)
                conditions[position] = .object(condition)
            } else {
                var condition: JSONObject = [
                    "type": .string(type), "status": .string(NodeLifecycleVocabulary.conditionUnknown),
                    "reason": .string(NodeLifecycleVocabulary.neverPostedReason),
                    "message": .string(NodeLifecycleVocabulary.neverPostedMessage),
                ]
                if let created = node.stringMember("metadata", "creationTimestamp") {
                    condition["lastHeartbeatTime"] = .string(created)
                }
                condition["lastTransitionTime"] = .string(nowText)
                conditions.append(.object(condition))
            }
        }
        var updated = node
        updated.set("status.conditions", .array(conditions))
        return (updated, ObjectCondition.of(updated, type: NodeLifecycleVocabulary.ready))
    }

    /// The node's creation time on the monotonic clock (never later than now).
    static func creationInstant(_ text: String?, now: Nanoseconds, wallNow: Int64) -> Nanoseconds {
        guard let text, let created = KubeTime.parse(text) else { return now }
        let age = max(0, wallNow - created)
        // Ages beyond a century are clamped so the product cannot overflow.
        return now - min(age, 3_153_600_000) * Time.second
    }
}

extension ObjectCondition {
    init(type: String, status: String, lastHeartbeatTime: String?, lastTransitionTime: String?) {
        self.type = type
        self.status = status
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = nil
    }
}
