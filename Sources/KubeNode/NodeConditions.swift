//! The conditions a healthy kubelet reports on its node, with the reasons and messages the real
//! kubelet writes, and the heartbeat that refreshes them.

import KubeAPI
import Wire

public enum NodeConditions {
    /// The four pressure conditions (all False) and Ready (True), heartbeat at `wallNow`, last
    /// changed at `transition`.
    public static func healthy(wallNow: Int64, transition: Int64) -> [JSONValue] {
        let heartbeat = KubeTime.format(wallNow), changed = KubeTime.format(transition)
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            .object([
                "type": .string(type), "status": .string(status), "lastHeartbeatTime": .string(heartbeat),
                "lastTransitionTime": .string(changed), "reason": .string(reason), "message": .string(message),
            ])
        }
        return [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
    }

    /// The status patch of one heartbeat: every condition healthy again. A condition that was
    /// not healthy (the node controller set it Unknown while we were cut off) gets a new
    /// transition time; one that was keeps its own.
    public static func heartbeatPatch(current node: JSONValue, wallNow: Int64) -> JSONValue {
        let healthyNow = healthy(wallNow: wallNow, transition: wallNow)
        let previous = node.arrayMember("status", "conditions")
        let conditions = healthyNow.map { fresh -> JSONValue in
            let type = fresh.stringMember("type")
            guard let old = previous.first(where: { $0.stringMember("type") == type }),
                old.stringMember("status") == fresh.stringMember("status"),
                let since = old.stringMember("lastTransitionTime")
            else { return fresh }
            var kept = fresh
            kept.set("lastTransitionTime", .string(since))
            return kept
        }
        return .object(["status": .object(["conditions": .array(conditions)])])
    }

    /// Whether the node's Ready condition is True.
    public static func isReady(_ node: JSONValue) -> Bool {
        node.arrayMember("status", "conditions").contains { $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True" }
    }
}
