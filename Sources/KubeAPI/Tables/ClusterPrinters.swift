//! Rows of the cluster's bookkeeping kinds: nodes (`Ready,SchedulingDisabled`, roles from
//! `node-role.kubernetes.io/*` labels), namespaces, events (`Last Seen`, `pod/web-1`), leases,
//! config maps, secrets and service accounts.
import Wire

enum ClusterPrinters {
    static let nodes = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Status", description: "Whether the node is ready, and whether it takes new pods."),
            TableColumn(name: "Roles", description: "The node's roles, from its node-role labels."),
            TablePrinters.ageColumn,
            TableColumn(name: "Version", description: "The kubelet's version."),
            TableColumn(name: "Internal-IP", description: "The node's first internal address.", priority: 1),
            TableColumn(name: "External-IP", description: "The node's first external address.", priority: 1),
            TableColumn(name: "OS-Image", description: "The operating system the node reports.", priority: 1),
            TableColumn(name: "Kernel-Version", description: "The kernel the node reports.", priority: 1),
            TableColumn(name: "Container-Runtime", description: "The container runtime and its version.", priority: 1),
        ],
        cells: { node, now in
            let info = node["status"]?["nodeInfo"]
            let reported = { (field: String) -> JSONValue in
                .string(info?.stringMember(field).flatMap { $0.isEmpty ? nil : $0 } ?? "<unknown>")
            }
            return [
                TablePrinters.name(node), .string(nodeStatus(node)), .string(roles(node)), TablePrinters.age(node, now),
                .string(info?.stringMember("kubeletVersion") ?? ""),
                .string(address(node, type: "InternalIP")), .string(address(node, type: "ExternalIP")),
                reported("osImage"), reported("kernelVersion"), reported("containerRuntimeVersion"),
            ]
        })

    /// `Ready` or `NotReady` from the Ready condition (`Unknown` without one), then
    /// `SchedulingDisabled` for a cordoned node.
    static func nodeStatus(_ node: JSONValue) -> String {
        var status: [String] = []
        if let ready = node.arrayMember("status", "conditions").last(where: { $0.stringMember("type") == "Ready" }) {
            status.append(ready.stringMember("status") == "True" ? "Ready" : "NotReady")
        } else {
            status.append("Unknown")
        }
        if node.boolMember("spec", "unschedulable") == true { status.append("SchedulingDisabled") }
        return status.joined(separator: ",")
    }

    /// The roles in `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role`
    /// label's value, sorted; `<none>` without any.
    static func roles(_ node: JSONValue) -> String {
        var roles = Set<String>()
        for (key, value) in node["metadata"]?["labels"]?.stringPairs ?? [] {
            if key.hasPrefix("node-role.kubernetes.io/") {
                let role = key.dropFirst("node-role.kubernetes.io/".count)
                if !role.isEmpty { roles.insert(String(role)) }
            } else if key == "kubernetes.io/role" && !value.isEmpty {
                roles.insert(value)
            }
        }
        return roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")
    }

    private static func address(_ node: JSONValue, type: String) -> String {
        node.arrayMember("status", "addresses").first { $0.stringMember("type") == type }?.stringMember("address") ?? "<none>"
    }

    static let namespaces = TablePrinter(
        columns: [
            TablePrinters.nameColumn, TableColumn(name: "Status", description: "Active, or Terminating while its contents go."),
            TablePrinters.ageColumn,
        ],
        cells: { namespace, now in
            [TablePrinters.name(namespace), .string(namespace.stringMember("status", "phase") ?? ""), TablePrinters.age(namespace, now)]
        })

    static let events = TablePrinter(
        columns: [
            TableColumn(name: "Last Seen", description: "How long ago the event last happened."),
            TableColumn(name: "Type", description: "Normal or Warning."),
            TableColumn(name: "Reason", description: "Why the event happened, in one word."),
            TableColumn(name: "Object", description: "The object the event is about."),
            TableColumn(name: "Subobject", description: "The part of the object, such as a container.", priority: 1),
            TableColumn(name: "Source", description: "The component that reported the event.", priority: 1),
            TableColumn(name: "Message", description: "What happened."),
            TableColumn(name: "First Seen", description: "How long ago the event first happened.", priority: 1),
            TableColumn(name: "Count", description: "How many times the event happened.", priority: 1),
            TableColumn(name: "Name", format: "name", description: "The event's name.", priority: 1),
        ],
        cells: eventCells)

    /// An event's row: its times fall back from `lastTimestamp` to `firstTimestamp` to `eventTime`,
    /// and a series (a repeating new-style event) reports its own last time and count.
    private static func eventCells(_ event: JSONValue, now: Int64) -> [JSONValue] {
        let since = { (timestamp: String?) in HumanDuration.since(timestamp, now: now) }
        let first = event.stringMember("firstTimestamp").flatMap(KubeTime.parse) != nil
            ? since(event.stringMember("firstTimestamp")) : since(event.stringMember("eventTime"))
        var last = event.stringMember("lastTimestamp").flatMap(KubeTime.parse) != nil ? since(event.stringMember("lastTimestamp")) : first
        var count = event.intMember("count") ?? 0
        if let series = event["series"], series != .null {
            last = since(series.stringMember("lastObservedTime"))
            count = series.intMember("count") ?? 0
        } else if count == 0 {
            count = 1
        }
        let kind = (event.stringMember("involvedObject", "kind") ?? "").lowercased()
        let objectName = event.stringMember("involvedObject", "name") ?? ""
        let component = nonEmpty(event.stringMember("source", "component")) ?? event.stringMember("reportingComponent") ?? ""
        let host = nonEmpty(event.stringMember("source", "host")) ?? event.stringMember("reportingInstance") ?? ""
        return [
            .string(last), .string(event.stringMember("type") ?? ""), .string(event.stringMember("reason") ?? ""),
            .string(objectName.isEmpty ? kind : "\(kind)/\(objectName)"),
            .string(event.stringMember("involvedObject", "fieldPath") ?? ""),
            .string(host.isEmpty ? component : "\(component), \(host)"),
            .string((event.stringMember("message") ?? "").trimmingWhitespace),
            .string(first), .integer(count), TablePrinters.name(event),
        ]
    }

    static let leases = TablePrinter(
        columns: [TablePrinters.nameColumn, TableColumn(name: "Holder", description: "Who holds the lease."), TablePrinters.ageColumn],
        cells: { lease, now in
            [TablePrinters.name(lease), .string(lease.stringMember("spec", "holderIdentity") ?? ""), TablePrinters.age(lease, now)]
        })

    static let configMaps = TablePrinter(
        columns: [TablePrinters.nameColumn, TableColumn(name: "Data", description: "How many keys it holds."), TablePrinters.ageColumn],
        cells: { configMap, now in
            let keys = (configMap.objectMember("data")?.count ?? 0) + (configMap.objectMember("binaryData")?.count ?? 0)
            return [TablePrinters.name(configMap), .integer(Int64(keys)), TablePrinters.age(configMap, now)]
        })

    static let secrets = TablePrinter(
        columns: [
            TablePrinters.nameColumn, TableColumn(name: "Type", description: "What the secret holds."),
            TableColumn(name: "Data", description: "How many keys it holds."), TablePrinters.ageColumn,
        ],
        cells: { secret, now in
            [
                TablePrinters.name(secret), .string(secret.stringMember("type") ?? ""),
                .integer(Int64(secret.objectMember("data")?.count ?? 0)), TablePrinters.age(secret, now),
            ]
        })

    static let serviceAccounts = TablePrinter(
        columns: [
            TablePrinters.nameColumn, TableColumn(name: "Secrets", description: "How many secrets it references."),
            TablePrinters.ageColumn,
        ],
        cells: { account, now in
            [TablePrinters.name(account), .integer(Int64(account.arrayMember("secrets").count)), TablePrinters.age(account, now)]
        })

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}

fileprivate extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    var trimmingWhitespace: String {
        let isSpace = { (character: Character) in character.isWhitespace }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
