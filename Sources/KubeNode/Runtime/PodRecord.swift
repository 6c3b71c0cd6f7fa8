//! What the runtime remembers about one pod, and the status it reports for it: the phase by
//! Kubernetes' getPhase, the kubelet's five conditions with their reasons and messages, and a
//! containerStatus per container, with the fields, reasons and messages the real kubelet writes.

import Base
import KubeAPI
import Wire

/// A condition's status and since when it holds (wall seconds): the transition time moves
/// only when the status does.
struct ConditionMark: Sendable, Equatable {
    var status: String
    var since: Int64
}

enum PodLifecycle: Sendable, Equatable {
    /// Containers are started, probed and restarted.
    case active
    /// Succeeded or Failed: nothing runs or restarts any more.
    case finished
    /// The apiserver marked the pod for deletion: containers are stopped, SIGKILL at `killAt`.
    case deleting(killAt: Nanoseconds)
    /// Gone from the kubelet's cache (force-deleted): containers are killed, then it is forgotten.
    case removed
}

struct PodRecord: Sendable {
    var spec: PodSpecModel
    var containers: [ContainerRecord]
    var lifecycle: PodLifecycle = .active
    /// Why the kubelet refused the pod at admission (it reports it Failed and runs nothing).
    var refusal: (reason: String, message: String)?
    /// False for a pod first seen already Succeeded or Failed: its status is not this kubelet's
    /// to write; only its deletion is finished.
    var reportsStatus = true
    /// The pod as the kubelet's cache last held it.
    var apiserverCopy: JSONValue
    var podIP: String?
    /// An addAddress went out for `podIP` and no removeAddress yet.
    var ownsAddress = false
    var addressReleased = false
    var startTime: Int64
    var conditions: [String: ConditionMark] = [:]
    /// The status last sent, when, and whether the apiserver's copy shows it.
    var lastReport: (status: JSONValue, at: Nanoseconds)?
    var lastReportShown = false
    var deleteSentAt: Nanoseconds?

    func containerIndex(_ name: String) -> Int? { containers.firstIndex { $0.spec.name == name } }

    /// Whether a container process may exist, so the pod cannot be let go yet.
    var hasProcesses: Bool { containers.contains(where: \.mayHaveProcess) }

    /// Kubernetes' getPhase over the containers as their statuses show them: a container waiting
    /// after a run counts as stopped, one waiting before its first run keeps the pod Pending.
    var phase: String {
        if refusal != nil { return "Failed" }
        var waiting = 0, running = 0, stopped = 0, succeeded = 0
        for container in containers {
            switch container.phase {
            case .running: running += 1
            case .terminated(let termination):
                stopped += 1
                if termination.exitCode == 0 { succeeded += 1 }
            case .waiting, .starting:
                if container.lastTermination != nil { stopped += 1 } else { waiting += 1 }
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        guard stopped > 0 else { return "Pending" }
        // All stopped: under Always they are all restarting; otherwise the exits decide, and
        // under OnFailure a failed one is restarting.
        if spec.restartPolicy == .always { return "Running" }
        if stopped == succeeded { return "Succeeded" }
        return spec.restartPolicy == .never ? "Failed" : "Running"
    }

    /// The pod's status as the kubelet would write it at `wallNow`. Mutating only to move a
    /// condition's transition time when its status changes.
    mutating func status(hostIP: String, wallNow: Int64) -> JSONValue {
        let phase = self.phase
        var status: JSONObject = ["phase": .string(phase)]
        if let refusal {
            status["reason"] = .string(refusal.reason)
            status["message"] = .string(refusal.message)
            status["startTime"] = .string(KubeTime.format(startTime))
            return .object(status)
        }
        status["conditions"] = .array(conditionList(phase: phase, wallNow: wallNow))
        status["hostIP"] = .string(hostIP)
        status["hostIPs"] = .array([.object(["ip": .string(hostIP)])])
        if let podIP {
            status["podIP"] = .string(podIP)
            status["podIPs"] = .array([.object(["ip": .string(podIP)])])
        }
        status["startTime"] = .string(KubeTime.format(startTime))
        status["containerStatuses"] = .array(containers.map(Self.containerStatus))
        status["qosClass"] = .string(spec.qosClass)
        return .object(status)
    }

    /// The conditions the kubelet owns; others in the apiserver's copy are kept as they are
    /// (a merge patch replaces the whole list), ahead of the kubelet's, as the kubelet orders them.
    static let kubeletConditions: Set<String> = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]

    private mutating func conditionList(phase: String, wallNow: Int64) -> [JSONValue] {
        let kept = apiserverCopy.arrayMember("status", "conditions").filter {
            !Self.kubeletConditions.contains($0.stringMember("type") ?? "")
        }
        let containersReady: (status: String, reason: String?, message: String?)
        switch phase {
        case "Succeeded": containersReady = ("False", "PodCompleted", nil)
        case "Failed": containersReady = ("False", "PodFailed", nil)
        default:
            let unready = containers.filter { !$0.ready }.map(\.spec.name)
            containersReady = unready.isEmpty
                ? ("True", nil, nil) : ("False", "ContainersNotReady", "containers with unready status: [\(unready.joined(separator: " "))]")
        }
        var ready = containersReady
        if ready.status == "True", let gates = readinessGatesMessage() { ready = ("False", "ReadinessGatesNotReady", gates) }
        let sandboxReady = podIP != nil && lifecycle != .finished
        let owned: [(String, String, String?, String?)] = [
            ("PodReadyToStartContainers", sandboxReady ? "True" : "False", nil, nil),
            ("Initialized", "True", nil, nil),
            ("Ready", ready.status, ready.reason, ready.message),
            ("ContainersReady", containersReady.status, containersReady.reason, containersReady.message),
            ("PodScheduled", "True", nil, nil),
        ]
        return kept + owned.map { type, status, reason, message in
            let since: Int64
            if let mark = conditions[type], mark.status == status {
                since = mark.since
            } else {
                since = wallNow
                conditions[type] = ConditionMark(status: status, since: wallNow)
            }
            var condition: JSONObject = [
                "type": .string(type), "status": .string(status), "lastProbeTime": .null,
                "lastTransitionTime": .string(KubeTime.format(since)),
            ]
            if let reason { condition["reason"] = .string(reason) }
            if let message { condition["message"] = .string(message) }
            return .object(condition)
        }
    }

    /// The kubelet's message when a readiness gate's condition is missing or not True; nil when
    /// all gates (usually none) are open.
    private func readinessGatesMessage() -> String? {
        let current = apiserverCopy.arrayMember("status", "conditions")
        let messages = apiserverCopy.arrayMember("spec", "readinessGates").compactMap { gate -> String? in
            guard let type = gate.stringMember("conditionType") else { return nil }
            guard let condition = current.first(where: { $0.stringMember("type") == type }) else {
                return "corresponding condition of pod readiness gate \"\(type)\" does not exist."
            }
            let status = condition.stringMember("status") ?? ""
            return status == "True" ? nil : "the status of pod readiness gate \"\(type)\" is not \"True\", but \(status)"
        }
        return messages.isEmpty ? nil : messages.joined(separator: ", ")
    }

    static func containerStatus(_ container: ContainerRecord) -> JSONValue {
        let state: JSONValue
        switch container.phase {
        case .waiting(let reason, let message):
            var waiting: JSONObject = ["reason": .string(reason)]
            if let message { waiting["message"] = .string(message) }
            state = .object(["waiting": .object(waiting)])
        case .starting:
            state = .object(["waiting": .object(["reason": .string("ContainerCreating")])])
        case .running:
            state = .object(["running": .object(["startedAt": .string(KubeTime.format(container.runStartedWall))])])
        case .terminated(let termination):
            state = .object(["terminated": json(termination)])
        }
        var status: JSONObject = [
            "name": .string(container.spec.name), "state": state,
            "lastState": .object(container.lastTermination.map { ["terminated": json($0)] } ?? JSONObject()),
            "ready": .bool(container.ready), "restartCount": .integer(Int64(container.restartCount)),
            "image": .string(container.spec.imageReference),
            "imageID": .string(container.pulled ? "faultline://\(container.spec.imageReference)" : ""),
        ]
        if let containerID = container.containerID { status["containerID"] = .string(containerID) }
        status["started"] = .bool(container.started)
        return .object(status)
    }

    static func json(_ termination: Termination) -> JSONValue {
        var object: JSONObject = ["exitCode": .integer(Int64(termination.exitCode)), "reason": .string(termination.reason)]
        if let message = termination.message { object["message"] = .string(message) }
        object["startedAt"] = .string(KubeTime.format(termination.startedAt))
        object["finishedAt"] = .string(KubeTime.format(termination.finishedAt))
        object["containerID"] = .string(termination.containerID)
        return .object(object)
    }
}

enum StatusComparison {
    /// Whether the apiserver's copy `theirs` already shows `ours`: every member ours sets is
    /// there with the same value (members the apiserver added are fine), arrays element by
    /// element; a null or an empty object in ours also matches a missing member.
    static func covers(_ theirs: JSONValue?, _ ours: JSONValue) -> Bool {
        switch ours {
        case .null:
            return theirs == nil || theirs == .null
        case .object(let members):
            if members.count == 0, theirs == nil || theirs == .null { return true }
            guard case .object(let existing)? = theirs else { return false }
            return members.members.allSatisfy { key, value in covers(existing[key], value) }
        case .array(let elements):
            guard case .array(let existing)? = theirs, existing.count == elements.count else { return false }
            return zip(existing, elements).allSatisfy { covers($0, $1) }
        case .integer(let number):
            return theirs?.asInt64 == number
        default:
            return theirs == ours
        }
    }
}

enum GoDuration {
    /// Go's `time.Duration.String()`, as the kubelet's back-off messages print it: `10s`,
    /// `1m20s`, `5m0s`, `1h0m0s`, `1.5s`, `500ms`.
    static func format(_ value: Nanoseconds) -> String {
        if value == 0 { return "0s" }
        if value < 0 { return "-" + format(-value) }
        if value < Time.second {
            if value < Time.microsecond { return "\(value)ns" }
            if value < Time.millisecond { return decimal(value, unit: Time.microsecond) + "µs" }
            return decimal(value, unit: Time.millisecond) + "ms"
        }
        let hours = value / (3600 * Time.second)
        let minutes = value / (60 * Time.second) % 60
        let seconds = decimal(value % (60 * Time.second), unit: Time.second) + "s"
        if hours > 0 { return "\(hours)h\(minutes)m" + seconds }
        if minutes > 0 { return "\(minutes)m" + seconds }
        return seconds
    }

    /// `value / unit` with the fraction's trailing zeros dropped.
    private static func decimal(_ value: Nanoseconds, unit: Nanoseconds) -> String {
        let whole = value / unit, fraction = value % unit
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: String(unit).count - 1 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
