//! Pods on a hollow node: bound to it, reported Running with an address from the node's pod
//! CIDR, and deleted once their graceful deletion starts — without running anything. What
//! kubemark's hollow kubelet does, so that 1,000 nodes fit on one machine and the scheduler,
//! the controllers and the apiserver carry a real cluster's load.
//!
//! Level-triggered: `sync` is given every pod bound to the node as the kubelet's cache holds
//! it, and answers with the writes that bring the apiserver's view in line. It remembers only
//! which address each pod has and what it already reported.

import KubeAPI
import Wire

public struct HollowPods: Sendable {
    public let node: String
    public let hostIP: String
    private var addresses: PodAddresses
    /// uid → what was last reported for the pod and when (wall seconds): a pod is reported
    /// once, and again only if the apiserver still does not show it after `retryAfterSeconds`
    /// (the report may have been lost).
    private var reported: [String: (report: Report, at: Int64)] = [:]
    /// uid → when its deletion was sent (it is sent again after `retryAfter` if still there).
    private var deleting: [String: Int64] = [:]
    public var retryAfterSeconds: Int64 = 5

    enum Report: Equatable { case running, failed }

    public init(node: String, hostIP: String, podCIDR: String?) {
        self.node = node
        self.hostIP = hostIP
        addresses = PodAddresses(hostIP: hostIP, podCIDR: podCIDR)
    }

    /// How many pod addresses are in use.
    public var addressesInUse: Int { addresses.inUse }

    /// The writes that bring the pods bound to this node up to date, at wall time `wallNow`
    /// (epoch seconds).
    public mutating func sync(pods: [JSONValue], wallNow: Int64) -> [ObjectAction] {
        var actions: [ObjectAction] = []
        var present = Set<String>()
        for pod in pods where pod.stringMember("spec", "nodeName") == node {
            guard let uid = pod.stringMember("metadata", "uid"), let reference = ObjectReference(.standard("pods"), object: pod) else { continue }
            present.insert(uid)
            if pod.member("metadata", "deletionTimestamp") != nil {
                // Nothing runs, so termination is immediate: finish the deletion the apiserver
                // started (grace 0 with the uid, so a new pod of the same name is left alone).
                if let sent = deleting[uid], wallNow - sent < retryAfterSeconds { continue }
                deleting[uid] = wallNow
                actions.append(.delete(reference, uid: uid, gracePeriodSeconds: 0))
                continue
            }
            let phase = pod.stringMember("status", "phase") ?? "Pending"
            if phase == "Succeeded" || phase == "Failed" { continue }
            // The node controller marks a silent node's pods not Ready; once the kubelet is
            // heard again it puts its own view back, as the real kubelet's status manager does.
            let ready = pod.arrayMember("status", "conditions").contains {
                $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True"
            }
            if let last = reported[uid] {
                let shown = (last.report == .running && phase == "Running" && ready) || (last.report == .failed && phase == "Failed")
                if shown || wallNow - last.at < retryAfterSeconds { continue }
            }
            // A pod reported Running by an earlier run of this kubelet keeps its address.
            if phase == "Running", let ip = pod.stringMember("status", "podIP"), addresses.adopt(uid, address: ip) {
                reported[uid] = (.running, wallNow)
                if ready { continue }
                actions.append(.mergePatch(reference, patch: runningStatus(pod, ip: ip, wallNow: wallNow), subresource: "status"))
                continue
            }
            guard let ip = addresses.allocate(uid) else {
                reported[uid] = (.failed, wallNow)
                actions.append(.mergePatch(reference, patch: Self.failedStatus(
                    message: "no pod address left in the node's range", wallNow: wallNow), subresource: "status"))
                continue
            }
            reported[uid] = (.running, wallNow)
            actions.append(.mergePatch(reference, patch: runningStatus(pod, ip: ip, wallNow: wallNow), subresource: "status"))
        }
        // Pods gone from the cache: free their addresses and records.
        for uid in Set(reported.keys).union(deleting.keys).subtracting(present) {
            reported[uid] = nil
            deleting[uid] = nil
            addresses.release(uid)
        }
        return actions
    }

    /// The status of a pod whose containers all started at `wallNow` and are ready.
    func runningStatus(_ pod: JSONValue, ip: String, wallNow: Int64) -> JSONValue {
        let now = JSONValue.string(KubeTime.format(wallNow))
        let containers = pod.arrayMember("spec", "containers").map { container -> JSONValue in
            let image = container.stringMember("image") ?? ""
            return .object([
                "name": .string(container.stringMember("name") ?? ""), "image": .string(image),
                "imageID": .string("faultline://hollow/\(image)"), "containerID": .string("hollow://\(node)/\(container.stringMember("name") ?? "")"),
                "ready": .bool(true), "started": .bool(true), "restartCount": .integer(0),
                "state": .object(["running": .object(["startedAt": now])]),
            ])
        }
        let conditions: [JSONValue] = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map {
            .object(["type": .string($0), "status": .string("True"), "lastProbeTime": .null, "lastTransitionTime": now])
        }
        return .object(["status": .object([
            "phase": .string("Running"), "hostIP": .string(hostIP), "hostIPs": .array([.object(["ip": .string(hostIP)])]),
            "podIP": .string(ip), "podIPs": .array([.object(["ip": .string(ip)])]), "startTime": now,
            "conditions": .array(conditions), "containerStatuses": .array(containers), "qosClass": .string(Self.qosClass(pod)),
        ])])
    }

    static func failedStatus(message: String, wallNow: Int64) -> JSONValue {
        .object(["status": .object([
            "phase": .string("Failed"), "reason": .string("OutOfAddresses"), "message": .string(message),
            "startTime": .string(KubeTime.format(wallNow)),
        ])])
    }

    /// Kubernetes' QoS class: Guaranteed when every container's requests equal its limits for
    /// cpu and memory, BestEffort when none has any, Burstable otherwise.
    public static func qosClass(_ pod: JSONValue) -> String {
        let containers = pod.arrayMember("spec", "containers")
        var anySet = false, allGuaranteed = true
        for container in containers {
            let requests = container.objectMember("resources", "requests") ?? JSONObject()
            let limits = container.objectMember("resources", "limits") ?? JSONObject()
            if requests.count > 0 || limits.count > 0 { anySet = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else { allGuaranteed = false; continue }
                if let request = requests[resource], request != limit { allGuaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return allGuaranteed && !containers.isEmpty ? "Guaranteed" : "Burstable"
    }
}
