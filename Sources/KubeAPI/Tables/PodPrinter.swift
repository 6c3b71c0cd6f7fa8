//! The pod row of `kubectl get pods`: Ready (`1/1`), the Status the real printer derives from the
//! phase, the init containers and the container states (`ContainerCreating`, `CrashLoopBackOff`,
//! `Completed`, `Init:0/1`, `Terminating`...), Restarts with how long ago the last one was
//! (`5 (2m ago)`), Age, and with `-o wide` IP, Node, Nominated Node and Readiness Gates.
import Wire

enum PodPrinter {
    static let printer = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Ready", description: "Ready containers out of all containers."),
            TableColumn(name: "Status", description: "The pod's phase, or what its containers are doing."),
            TableColumn(name: "Restarts", description: "Container restarts, and how long ago the latest was."),
            TablePrinters.ageColumn,
            TableColumn(name: "IP", description: "The IP address allocated to the pod.", priority: 1),
            TableColumn(name: "Node", description: "The node the pod is bound to.", priority: 1),
            TableColumn(name: "Nominated Node", description: "Where the scheduler made room for the pod.", priority: 1),
            TableColumn(name: "Readiness Gates", description: "How many of the pod's readiness gates are met.", priority: 1),
        ],
        cells: cells, conditions: conditions)

    /// What the pod's containers add up to.
    struct Summary {
        var ready = 0
        var total = 0
        var reason = ""
        var restarts: Int64 = 0
        /// When the most recently restarted container last ended, in seconds since the epoch.
        var lastRestart: Int64?
    }

    static func cells(_ pod: JSONValue, now: Int64) -> [JSONValue] {
        let summary = summarize(pod)
        var restarts = String(summary.restarts)
        if summary.restarts != 0, let lastRestart = summary.lastRestart {
            restarts += " (\(HumanDuration.format(seconds: now - lastRestart)) ago)"
        }
        let podIP = pod.arrayMember("status", "podIPs").first?.stringMember("ip") ?? pod.stringMember("status", "podIP")
        return [
            TablePrinters.name(pod), .string("\(summary.ready)/\(summary.total)"), .string(summary.reason), .string(restarts),
            TablePrinters.age(pod, now),
            .string(nonEmpty(podIP)), .string(nonEmpty(pod.stringMember("spec", "nodeName"))),
            .string(nonEmpty(pod.stringMember("status", "nominatedNodeName"))), .string(readinessGates(pod)),
        ]
    }

    /// A finished pod's row says so, which clients use to tell it from a live one.
    static func conditions(_ pod: JSONValue) -> [JSONValue] {
        let message: String
        switch pod.stringMember("status", "phase") {
        case "Succeeded"?: message = "The pod has completed successfully."
        case "Failed"?: message = "The pod failed."
        default: return []
        }
        return [.object([
            "type": .string("Completed"), "status": .string("True"),
            "reason": .string(pod.stringMember("status", "phase") ?? ""), "message": .string(message),
        ])]
    }

    /// The real printer's reasoning: start from the phase (or the pod's reason), let the first
    /// unfinished init container speak while the pod initializes, then the containers (the first
    /// one listed wins), and finally a deletion in progress.
    static func summarize(_ pod: JSONValue) -> Summary {
        var summary = Summary()
        let phase = pod.stringMember("status", "phase") ?? ""
        let podReason = pod.stringMember("status", "reason") ?? ""
        summary.reason = podReason.isEmpty ? phase : podReason
        let conditions = pod.arrayMember("status", "conditions")
        if conditions.contains(where: { $0.stringMember("type") == "PodScheduled" && $0.stringMember("reason") == "SchedulingGated" }) {
            summary.reason = "SchedulingGated"
        }
        let initContainers = pod.arrayMember("spec", "initContainers")
        // Sidecars (init containers that restart Always) count as containers of the pod.
        let sidecars = Set(initContainers.filter { $0.stringMember("restartPolicy") == "Always" }.compactMap { $0.stringMember("name") })
        summary.total = pod.arrayMember("spec", "containers").count + sidecars.count

        var sidecarRestarts: Int64 = 0
        var lastSidecarRestart: Int64?
        var initializing = false
        for (position, status) in pod.arrayMember("status", "initContainerStatuses").enumerated() {
            let restartCount = status.intMember("restartCount") ?? 0
            summary.restarts += restartCount
            summary.lastRestart = latest(summary.lastRestart, lastTermination(status))
            let isSidecar = sidecars.contains(status.stringMember("name") ?? "")
            if isSidecar {
                sidecarRestarts += restartCount
                lastSidecarRestart = latest(lastSidecarRestart, lastTermination(status))
            }
            let terminated = status["state"]?["terminated"]
            let waitingReason = status.stringMember("state", "waiting", "reason") ?? ""
            if let terminated, terminated.intMember("exitCode") ?? 0 == 0 { continue }
            if isSidecar && status.boolMember("started") == true {
                if status.boolMember("ready") == true { summary.ready += 1 }
                continue
            }
            if let terminated {
                summary.reason = "Init:" + terminationReason(terminated)
            } else if !waitingReason.isEmpty && waitingReason != "PodInitializing" {
                summary.reason = "Init:" + waitingReason
            } else {
                summary.reason = "Init:\(position)/\(initContainers.count)"
            }
            initializing = true
            break
        }

        let initialized = conditions.contains { $0.stringMember("type") == "Initialized" && $0.stringMember("status") == "True" }
        if !initializing || initialized {
            summary.restarts = sidecarRestarts
            summary.lastRestart = lastSidecarRestart
            var hasRunning = false
            for status in pod.arrayMember("status", "containerStatuses").reversed() {
                summary.restarts += status.intMember("restartCount") ?? 0
                summary.lastRestart = latest(summary.lastRestart, lastTermination(status))
                let waitingReason = status.stringMember("state", "waiting", "reason") ?? ""
                if !waitingReason.isEmpty {
                    summary.reason = waitingReason
                } else if let terminated = status["state"]?["terminated"] {
                    summary.reason = terminationReason(terminated)
                } else if status.boolMember("ready") == true && status["state"]?["running"] != nil {
                    hasRunning = true
                    summary.ready += 1
                }
            }
            // A pod with a container still running is not Completed even if another one is.
            if summary.reason == "Completed" && hasRunning {
                let ready = conditions.contains { $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True" }
                summary.reason = ready ? "Running" : "NotReady"
            }
        }

        if pod["metadata"]?["deletionTimestamp"].map({ $0 != .null }) == true {
            if podReason == "NodeLost" {
                summary.reason = "Unknown"
            } else if phase != "Succeeded" && phase != "Failed" {
                summary.reason = "Terminating"
            }
        }
        return summary
    }

    /// `Completed`, `Error`, `OOMKilled`..., or the signal or exit code when the runtime gave no reason.
    private static func terminationReason(_ terminated: JSONValue) -> String {
        if let reason = terminated.stringMember("reason"), !reason.isEmpty { return reason }
        if let signal = terminated.intMember("signal"), signal != 0 { return "Signal:\(signal)" }
        return "ExitCode:\(terminated.intMember("exitCode") ?? 0)"
    }

    private static func lastTermination(_ status: JSONValue) -> Int64? {
        status.stringMember("lastState", "terminated", "finishedAt").flatMap(KubeTime.parse)
    }

    private static func latest(_ first: Int64?, _ second: Int64?) -> Int64? {
        guard let first else { return second }
        guard let second else { return first }
        return max(first, second)
    }

    /// `true/total` of the pod's readiness gates, or `<none>`.
    private static func readinessGates(_ pod: JSONValue) -> String {
        let gates = pod.arrayMember("spec", "readinessGates")
        guard !gates.isEmpty else { return "<none>" }
        let conditions = pod.arrayMember("status", "conditions")
        let met = gates.filter { gate in
            let type = gate.stringMember("conditionType")
            return conditions.first { $0.stringMember("type") == type }?.stringMember("status") == "True"
        }.count
        return "\(met)/\(gates.count)"
    }

    private static func nonEmpty(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "<none>" }
        return text
    }
}
