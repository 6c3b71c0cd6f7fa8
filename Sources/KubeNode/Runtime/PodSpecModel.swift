//! The parts of a pod the runtime acts on, read once from the pod's JSON when the pod is first
//! seen: its restart policy and grace period, and per container the image, command, env,
//! ports and probes, with the apiserver's defaults filled in where a pod omits them.

import Base
import KubeAPI
import Wire

enum RestartPolicy: String, Sendable {
    case always = "Always", onFailure = "OnFailure", never = "Never"

    /// Whether a container that exited with `exitCode` is started again.
    func restarts(exitCode: Int32) -> Bool {
        switch self {
        case .always: true
        case .onFailure: exitCode != 0
        case .never: false
        }
    }
}

/// A containerPort by number or by name, as probes refer to them.
enum PortReference: Sendable, Equatable {
    case number(Int)
    case name(String)

    init?(_ json: JSONValue?) {
        switch json {
        case .integer(let number)?: self = .number(Int(clamping: number))
        case .string(let text)?: self = Int(text).map(PortReference.number) ?? .name(text)
        default: return nil
        }
    }
}

struct ProbeSpec: Sendable, Equatable {
    enum Handler: Sendable, Equatable {
        case httpGet(host: String?, port: PortReference, path: String)
        case tcpSocket(host: String?, port: PortReference)
        case exec([String])
    }

    var handler: Handler
    var initialDelay: Nanoseconds
    var period: Nanoseconds
    var timeout: Nanoseconds
    var successThreshold: Int
    var failureThreshold: Int
    /// The probe's own `terminationGracePeriodSeconds`, which overrides the pod's when a
    /// liveness or startup failure stops the container.
    var terminationGrace: Nanoseconds?

    /// The probe at `json`, nil when there is none or its handler is one this runtime does not
    /// run (grpc): such a probe is left out, as if the container had none.
    init?(_ json: JSONValue?, kind: ProbeKind) {
        guard let json, case .object = json else { return nil }
        if let http = json["httpGet"], let port = PortReference(http["port"]) {
            handler = .httpGet(host: http.stringMember("host").flatMap { $0.isEmpty ? nil : $0 }, port: port,
                path: http.stringMember("path").flatMap { $0.isEmpty ? nil : $0 } ?? "/")
        } else if let tcp = json["tcpSocket"], let port = PortReference(tcp["port"]) {
            handler = .tcpSocket(host: tcp.stringMember("host").flatMap { $0.isEmpty ? nil : $0 }, port: port)
        } else if let command = json["exec"]?["command"]?.asArray {
            handler = .exec(command.compactMap(\.asString))
        } else {
            return nil
        }
        // Zero or missing means the apiserver's default, as its defaulter would have set it.
        func seconds(_ field: String, default value: Int64, minimum: Int64) -> Nanoseconds {
            let given = json.intMember(field) ?? 0
            return (given < minimum || given == 0 ? value : min(given, 86_400)) * Time.second
        }
        initialDelay = max(0, min(json.intMember("initialDelaySeconds") ?? 0, 86_400)) * Time.second
        period = seconds("periodSeconds", default: 10, minimum: 1)
        timeout = seconds("timeoutSeconds", default: 1, minimum: 1)
        // Validation allows only 1 for liveness and startup probes.
        let success = json.intMember("successThreshold") ?? 0
        successThreshold = kind == .readiness && success > 0 ? Int(min(success, 1_000)) : 1
        let failure = json.intMember("failureThreshold") ?? 0
        failureThreshold = failure > 0 ? Int(min(failure, 1_000)) : 3
        terminationGrace = json.intMember("terminationGracePeriodSeconds").map(PodSpecModel.graceSeconds)
    }
}

/// Where an environment variable's value comes from.
enum EnvSource: Sendable, Equatable {
    case literal(String)
    /// A downward-API field (`metadata.name`, `status.podIP`, …), resolved at each start.
    case field(String)
}

struct ContainerSpec: Sendable {
    var name: String
    var imageReference: String
    var image: BuiltinImage?
    var command: [String]
    var args: [String]
    var env: [(name: String, source: EnvSource)]
    /// TCP containerPorts in spec order, and the named ones by name.
    var ports: [Int]
    var namedPorts: [String: Int]
    var liveness: ProbeSpec?
    var readiness: ProbeSpec?
    var startup: ProbeSpec?

    init(_ json: JSONValue) {
        name = json.stringMember("name") ?? ""
        imageReference = json.stringMember("image") ?? ""
        image = BuiltinImage.resolve(image: imageReference)
        command = json.arrayMember("command").compactMap(\.asString)
        args = json.arrayMember("args").compactMap(\.asString)
        env = json.arrayMember("env").compactMap { variable in
            guard let name = variable.stringMember("name"), !name.isEmpty else { return nil }
            if let path = variable.stringMember("valueFrom", "fieldRef", "fieldPath") { return (name, .field(path)) }
            return (name, .literal(variable.stringMember("value") ?? ""))
        }
        var ports: [Int] = []
        var namedPorts: [String: Int] = [:]
        for port in json.arrayMember("ports") where (port.stringMember("protocol") ?? "TCP") == "TCP" {
            guard let number = port.intMember("containerPort"), (1...65_535).contains(number) else { continue }
            ports.append(Int(number))
            if let portName = port.stringMember("name"), !portName.isEmpty { namedPorts[portName] = Int(number) }
        }
        self.ports = ports
        self.namedPorts = namedPorts
        liveness = ProbeSpec(json["livenessProbe"], kind: .liveness)
        readiness = ProbeSpec(json["readinessProbe"], kind: .readiness)
        startup = ProbeSpec(json["startupProbe"], kind: .startup)
    }

    func probe(_ kind: ProbeKind) -> ProbeSpec? {
        switch kind {
        case .liveness: liveness
        case .readiness: readiness
        case .startup: startup
        }
    }

    /// The probe's action against a pod at `podIP`; nil when it names a port the container does
    /// not declare (the probe then fails without being run, as the kubelet's does).
    func action(of probe: ProbeSpec, podIP: String) -> ProbeAction? {
        func number(_ port: PortReference) -> Int? {
            switch port {
            case .number(let value): (1...65_535).contains(value) ? value : nil
            case .name(let portName): namedPorts[portName]
            }
        }
        switch probe.handler {
        case .httpGet(let host, let port, let path): return number(port).map { .httpGet(host: host ?? podIP, port: $0, path: path) }
        case .tcpSocket(let host, let port): return number(port).map { .tcpSocket(host: host ?? podIP, port: $0) }
        case .exec(let command): return .exec(command: command)
        }
    }
}

/// The pod as the runtime runs it.
struct PodSpecModel: Sendable {
    var uid: String
    var namespace: String
    var name: String
    var reference: ObjectReference
    var restartPolicy: RestartPolicy
    /// `spec.terminationGracePeriodSeconds` (default 30): how long a container stopped for a
    /// failed liveness or startup probe has between SIGTERM and SIGKILL.
    var terminationGrace: Nanoseconds
    /// Pods on the host's network get the host's address and no address of their own.
    var hostNetwork: Bool
    var containers: [ContainerSpec]
    var qosClass: String

    /// Nil for a pod without a uid or a name: nothing can be reported about it.
    init?(_ pod: JSONValue) {
        guard let uid = pod.stringMember("metadata", "uid"), !uid.isEmpty,
            let reference = ObjectReference(.standard("pods"), object: pod)
        else { return nil }
        self.uid = uid
        self.reference = reference
        namespace = reference.namespace ?? "default"
        name = reference.name
        restartPolicy = pod.stringMember("spec", "restartPolicy").flatMap(RestartPolicy.init(rawValue:)) ?? .always
        terminationGrace = Self.graceSeconds(pod.intMember("spec", "terminationGracePeriodSeconds") ?? 30)
        hostNetwork = pod.boolMember("spec", "hostNetwork") ?? false
        containers = pod.arrayMember("spec", "containers").map(ContainerSpec.init)
        qosClass = HollowPods.qosClass(pod)
    }

    /// A grace period in seconds as a duration, kept within a year so that no client's value
    /// overflows the clock arithmetic.
    static func graceSeconds(_ seconds: Int64) -> Nanoseconds { min(max(0, seconds), 366 * 86_400) * Time.second }

    /// Why the kubelet refuses to run the pod, or nil when it runs it.
    func admissionRefusal(containersMax: Int) -> (reason: String, message: String)? {
        if containers.isEmpty { return ("UnexpectedAdmissionError", "Pod was rejected: the pod has no containers") }
        if containers.count > containersMax {
            return ("UnexpectedAdmissionError", "Pod was rejected: \(containers.count) containers, more than the \(containersMax) this kubelet runs in one pod")
        }
        let names = containers.map(\.name)
        if names.contains("") || Set(names).count != names.count {
            return ("UnexpectedAdmissionError", "Pod was rejected: container names must be present and unique, got \(names)")
        }
        return nil
    }

    /// The environment of `container` started with address `podIP` on `node` (host `hostIP`).
    func environment(of container: ContainerSpec, podIP: String, node: String, hostIP: String) -> [String: String] {
        func field(_ path: String) -> String? {
            switch path {
            case "metadata.name": name
            case "metadata.namespace": namespace
            case "metadata.uid": uid
            case "spec.nodeName": node
            case "status.podIP", "status.podIPs": podIP
            case "status.hostIP", "status.hostIPs": hostIP
            default: nil
            }
        }
        var env = ["POD_NAME": name, "POD_NAMESPACE": namespace, "POD_IP": podIP, "NODE_NAME": node]
        for (variable, source) in container.env {
            switch source {
            case .literal(let value): env[variable] = value
            case .field(let path): if let value = field(path) { env[variable] = value }
            }
        }
        return env
    }
}
