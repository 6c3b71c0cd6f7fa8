//! A fake kubelet shell around PodRuntime for the tests: an apiserver held as a dictionary of
//! pods that takes the runtime's status patches and deletes, a clock moved by hand, and pod
//! and container builders.

import Base
import KubeAPI
import KubeNode
import Wire

struct FakeKubelet {
    static let wallBase: Int64 = 1_800_000_000
    var runtime: PodRuntime
    /// uid → the pod as the apiserver holds it.
    var apiserver: [String: JSONValue] = [:]
    var now: Nanoseconds = 0
    /// Whether reports reach the apiserver (false: the write was lost).
    var apiserverTakesReports = true
    /// Whether the cache sees the apiserver's change at once (the runtime is synced after every
    /// call that reported), as a prompt watch would do.
    var watchEchoes = true

    init(podCIDR: String? = "10.244.1.0/24", settings: PodRuntimeSettings = .init()) {
        runtime = PodRuntime(node: "w1", hostIP: "10.0.0.5", podCIDR: podCIDR, settings: settings)
    }

    var wallNow: Int64 { Self.wallBase + now / Time.second }
    static func wall(_ seconds: Int64) -> String { KubeTime.format(wallBase + seconds) }

    mutating func at(_ seconds: Int64) { now = seconds * Time.second }

    mutating func add(_ pod: JSONValue) {
        guard let uid = pod.stringMember("metadata", "uid") else { return }
        apiserver[uid] = pod
    }

    /// The order the cache lists pods in: by default not the uid order, to show the runtime
    /// does not depend on it.
    var listsInUIDOrder = false
    var cachedPods: [JSONValue] { apiserver.keys.sorted(by: listsInUIDOrder ? (<) : (>)).compactMap { apiserver[$0] } }

    mutating func sync() -> [RuntimeDirective] {
        deliver(runtime.sync(pods: cachedPods, now: now, wallNow: wallNow))
    }

    mutating func tick() -> [RuntimeDirective] { deliver(runtime.tick(now: now, wallNow: wallNow)) }

    mutating func started(_ uid: String, _ container: String) -> [RuntimeDirective] {
        deliver(runtime.containerStarted(podUID: uid, container: container, now: now, wallNow: wallNow))
    }

    mutating func startFailed(_ uid: String, _ container: String, _ message: String) -> [RuntimeDirective] {
        deliver(runtime.containerStartFailed(podUID: uid, container: container, message: message, now: now, wallNow: wallNow))
    }

    mutating func exited(_ uid: String, _ container: String, code: Int32 = 0, signal: Int32? = nil) -> [RuntimeDirective] {
        deliver(runtime.containerExited(podUID: uid, container: container, exitCode: code, signal: signal, now: now, wallNow: wallNow))
    }

    mutating func probed(_ uid: String, _ container: String, _ kind: ProbeKind, _ success: Bool) -> [RuntimeDirective] {
        deliver(runtime.probeFinished(podUID: uid, container: container, kind: kind, success: success, message: nil, now: now, wallNow: wallNow))
    }

    /// Marks the pod for deletion as the apiserver does on a graceful DELETE.
    mutating func delete(_ uid: String, grace: Int64) {
        guard var pod = apiserver[uid] else { return }
        pod.set("metadata.deletionTimestamp", .string(KubeTime.format(wallNow + grace)))
        pod.set("metadata.deletionGracePeriodSeconds", .integer(grace))
        apiserver[uid] = pod
    }

    private mutating func deliver(_ directives: [RuntimeDirective]) -> [RuntimeDirective] {
        var reported = false
        for directive in directives {
            guard case .report(let action) = directive, apiserverTakesReports else { continue }
            switch action {
            case .mergePatch(let reference, let patch, "status"):
                guard let uid = apiserver.first(where: { $0.value.stringMember("metadata", "name") == reference.name })?.key else { continue }
                apiserver[uid] = MergePatch.apply(patch, to: apiserver[uid] ?? .null)
                reported = true
            case .delete(_, let uid?, _, 0):
                apiserver[uid] = nil
                reported = true
            default:
                continue
            }
        }
        guard reported && watchEchoes else { return directives }
        return directives + deliver(runtime.sync(pods: cachedPods, now: now, wallNow: wallNow))
    }

    // MARK: Reading the apiserver's copy

    func status(_ uid: String) -> JSONValue? { apiserver[uid]?["status"] }
    func phase(_ uid: String) -> String? { apiserver[uid]?.stringMember("status", "phase") }
    func condition(_ uid: String, _ type: String) -> JSONValue? {
        apiserver[uid]?.arrayMember("status", "conditions").first { $0.stringMember("type") == type }
    }
    func container(_ uid: String, _ name: String) -> JSONValue? {
        apiserver[uid]?.arrayMember("status", "containerStatuses").first { $0.stringMember("name") == name }
    }
    func waiting(_ uid: String, _ name: String) -> (reason: String?, message: String?) {
        let state = container(uid, name)?.member("state", "waiting")
        return (state?.stringMember("reason"), state?.stringMember("message"))
    }
}

// MARK: Directives

func launches(_ directives: [RuntimeDirective]) -> [ContainerLaunch] {
    directives.compactMap { if case .start(let launch) = $0 { launch } else { nil } }
}

func signals(_ directives: [RuntimeDirective]) -> [String] {
    directives.compactMap {
        guard case .signal(_, let container, let signal) = $0 else { return nil }
        return "\(container):\(signal == .terminate ? "TERM" : "KILL")"
    }
}

func probes(_ directives: [RuntimeDirective]) -> [(container: String, kind: ProbeKind, action: ProbeAction)] {
    directives.compactMap {
        guard case .probe(_, let container, let kind, let action, _) = $0 else { return nil }
        return (container, kind, action)
    }
}

func statusReports(_ directives: [RuntimeDirective]) -> [JSONValue] {
    directives.compactMap {
        guard case .report(.mergePatch(_, let patch, "status")) = $0 else { return nil }
        return patch["status"]
    }
}

func deletes(_ directives: [RuntimeDirective]) -> [ObjectAction] {
    directives.compactMap {
        guard case .report(let action) = $0, case .delete = action else { return nil }
        return action
    }
}

// MARK: Building pods

func podObject(_ name: String, uid: String, containers: [JSONValue], restartPolicy: String? = nil, grace: Int64? = nil,
    node: String = "w1", spec extra: JSONObject = [:]) -> JSONValue
{
    var spec: JSONObject = ["nodeName": .string(node), "containers": .array(containers)]
    if let restartPolicy { spec["restartPolicy"] = .string(restartPolicy) }
    if let grace { spec["terminationGracePeriodSeconds"] = .integer(grace) }
    for (key, value) in extra.members { spec[key] = value }
    return .object([
        "metadata": .object(["name": .string(name), "namespace": .string("default"), "uid": .string(uid)]),
        "spec": .object(spec),
        // What the apiserver and the scheduler leave: Pending, scheduled at wall time 0.
        "status": .object([
            "phase": .string("Pending"),
            "conditions": .array([.object([
                "type": .string("PodScheduled"), "status": .string("True"), "lastProbeTime": .null,
                "lastTransitionTime": .string(FakeKubelet.wall(-1)),
            ])]),
        ]),
    ])
}

func containerObject(_ name: String, image: String, ports: [(name: String?, number: Int64)] = [], env: [String: String] = [:],
    command: [String] = [], probes: [String: JSONValue] = [:]) -> JSONValue
{
    var container: JSONObject = ["name": .string(name), "image": .string(image)]
    if !command.isEmpty { container["command"] = .array(command.map(JSONValue.string)) }
    if !ports.isEmpty {
        container["ports"] = .array(ports.map { port in
            var object: JSONObject = ["containerPort": .integer(port.number), "protocol": .string("TCP")]
            if let name = port.name { object["name"] = .string(name) }
            return .object(object)
        })
    }
    if !env.isEmpty {
        container["env"] = .array(env.keys.sorted().map { .object(["name": .string($0), "value": .string(env[$0] ?? "")]) })
    }
    for (field, probe) in probes.sorted(by: { $0.key < $1.key }) { container[field] = probe }
    return .object(container)
}

func probeObject(_ handler: JSONObject, period: Int64? = nil, initialDelay: Int64? = nil, success: Int64? = nil,
    failure: Int64? = nil) -> JSONValue
{
    var probe = handler
    if let period { probe["periodSeconds"] = .integer(period) }
    if let initialDelay { probe["initialDelaySeconds"] = .integer(initialDelay) }
    if let success { probe["successThreshold"] = .integer(success) }
    if let failure { probe["failureThreshold"] = .integer(failure) }
    return .object(probe)
}
