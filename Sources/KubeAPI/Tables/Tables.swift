//! Server-side printing for `kubectl get`: the meta.k8s.io/v1 Table a real apiserver answers when
//! asked `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! kubectl 1.32 has no printers of its own for built-in kinds, so every column (Ready, Status,
//! Restarts, Age...) is computed here, with the real server's columns, priorities (1 = only with
//! `-o wide`) and cell rules. Each row carries the object's metadata (a PartialObjectMetadata),
//! or the whole object when asked (`--sort-by`), which kubectl needs for `-A`, `--show-labels`
//! and `-L`.
import Wire

/// A column of a Table.
public struct TableColumn: Sendable, Equatable {
    /// The header kubectl prints, upper-cased: `Name`, `Restarts`.
    public var name: String
    /// `string`, `integer`, `date`, ...
    public var type: String
    /// `name` on the Name column: kubectl then prefixes `pod/` in multi-type output.
    public var format: String
    /// What the column shows, for API clients (kubectl does not print it).
    public var description: String
    /// 0 for default columns, 1 for the `-o wide` ones.
    public var priority: Int

    /// A column; most are strings with no format, shown by default.
    public init(name: String, type: String = "string", format: String = "", description: String, priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    /// The entry of `columnDefinitions`.
    public var json: JSONValue {
        .object([
            "name": .string(name), "type": .string(type), "format": .string(format),
            "description": .string(description), "priority": .integer(Int64(priority)),
        ])
    }
}

/// The columns of one resource and how to fill them from an object.
struct TablePrinter: Sendable {
    let columns: [TableColumn]
    /// The cells of an object's row, given "now" in seconds since the epoch.
    let cells: @Sendable (JSONValue, Int64) -> [JSONValue]
    /// Row conditions (a completed pod is marked so), if the resource has any.
    let conditions: @Sendable (JSONValue) -> [JSONValue]

    init(
        columns: [TableColumn], cells: @escaping @Sendable (JSONValue, Int64) -> [JSONValue],
        conditions: @escaping @Sendable (JSONValue) -> [JSONValue] = { _ in [] }
    ) {
        self.columns = columns
        self.cells = cells
        self.conditions = conditions
    }
}

extension KubeAPI {
    /// The Table of `objects` of `resource`, as the answer to a list (or, with one object, a get
    /// or a watch event).
    ///
    /// - Parameters:
    ///   - now: seconds since the epoch, for the Age and Last Seen columns.
    ///   - includeObject: put the whole object in each row (`includeObject=Object`, sent by
    ///     `--sort-by`) instead of its metadata.
    ///   - listResourceVersion: the Table's `metadata.resourceVersion`, from which a watch resumes.
    public static func table(
        resource: APIResource, objects: [JSONValue], now: Int64, includeObject: Bool, listResourceVersion: String
    ) -> JSONValue {
        let printer = TablePrinters.printer(for: resource)
        let rows = objects.map { object -> JSONValue in
            var row: JSONObject = ["cells": .array(printer.cells(object, now))]
            let conditions = printer.conditions(object)
            if !conditions.isEmpty { row["conditions"] = .array(conditions) }
            row["object"] = includeObject ? fullObject(object, resource: resource) : partialObjectMetadata(object)
            return .object(row)
        }
        return .object([
            "kind": .string("Table"),
            "apiVersion": .string("meta.k8s.io/v1"),
            "metadata": .object(["resourceVersion": .string(listResourceVersion)]),
            "columnDefinitions": .array(printer.columns.map(\.json)),
            "rows": .array(rows),
        ])
    }

    /// The columns `table` produces for `resource`.
    public static func tableColumns(resource: APIResource) -> [TableColumn] {
        TablePrinters.printer(for: resource).columns
    }

    private static func partialObjectMetadata(_ object: JSONValue) -> JSONValue {
        .object([
            "kind": .string("PartialObjectMetadata"),
            "apiVersion": .string("meta.k8s.io/v1"),
            "metadata": object["metadata"] ?? .object(JSONObject()),
        ])
    }

    /// The object with its `kind` and `apiVersion`, which list items may leave out.
    private static func fullObject(_ object: JSONValue, resource: APIResource) -> JSONValue {
        guard case .object(var fields) = object else { return object }
        if fields["kind"] == nil {
            var typed: JSONObject = ["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersion)]
            for (key, value) in fields.members where key != "apiVersion" { typed[key] = value }
            fields = typed
        }
        return .object(fields)
    }
}

/// The printers by resource, and what they share.
enum TablePrinters {
    static func printer(for resource: APIResource) -> TablePrinter {
        switch (resource.group, resource.plural) {
        case ("", "pods"): PodPrinter.printer
        case ("", "nodes"): ClusterPrinters.nodes
        case ("", "namespaces"): ClusterPrinters.namespaces
        case ("", "events"): ClusterPrinters.events
        case ("", "configmaps"): ClusterPrinters.configMaps
        case ("", "secrets"): ClusterPrinters.secrets
        case ("", "serviceaccounts"): ClusterPrinters.serviceAccounts
        case ("coordination.k8s.io", "leases"): ClusterPrinters.leases
        case ("", "services"): ServicePrinters.services
        case ("", "endpoints"): ServicePrinters.endpoints
        case ("apps", "deployments"): WorkloadPrinters.deployments
        case ("apps", "replicasets"): WorkloadPrinters.replicaSets
        default: fallback
        }
    }

    static let nameColumn = TableColumn(
        name: "Name", format: "name", description: "The object's name, unique within its namespace for a kind.")
    static let ageColumn = TableColumn(name: "Age", description: "How long ago the object was created.")

    /// Any other resource: its name and creation time, as the generic server prints it.
    static let fallback = TablePrinter(
        columns: [nameColumn, TableColumn(name: "Created At", type: "date", description: "When the object was created.")],
        cells: { object, _ in [name(object), .string(object.stringMember("metadata", "creationTimestamp") ?? "")] })

    static func name(_ object: JSONValue) -> JSONValue { .string(object.stringMember("metadata", "name") ?? "") }

    static func age(_ object: JSONValue, _ now: Int64) -> JSONValue {
        .string(HumanDuration.since(object.stringMember("metadata", "creationTimestamp"), now: now))
    }

    /// A label map as `app=web,tier=front` (keys sorted), or `<none>`.
    static func formatLabels(_ labels: JSONValue?) -> String {
        let pairs = (labels?.stringPairs ?? []).sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return pairs.isEmpty ? "<none>" : pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// A label selector as Kubernetes writes one (`app=web,tier in (a,b),!canary`), its
    /// requirements sorted by key; empty for a missing or empty selector, nil when malformed.
    static func formatSelector(_ selector: JSONValue?) -> String? {
        guard let selector, selector != .null else { return "" }
        var requirements: [(key: String, text: String)] =
            selector["matchLabels"]?.stringPairs.map { ($0.key, "\($0.key)=\($0.value)") } ?? []
        for expression in selector.arrayMember("matchExpressions") {
            let key = expression.stringMember("key") ?? ""
            let values = expression.arrayMember("values").compactMap(\.asString).sorted().joined(separator: ",")
            switch expression.stringMember("operator") ?? "" {
            case "In" where !values.isEmpty: requirements.append((key, "\(key) in (\(values))"))
            case "NotIn" where !values.isEmpty: requirements.append((key, "\(key) notin (\(values))"))
            case "Exists": requirements.append((key, key))
            case "DoesNotExist": requirements.append((key, "!\(key)"))
            default: return nil
            }
        }
        return requirements.enumerated()
            .sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
            .map(\.element.text).joined(separator: ",")
    }

    /// The names and the images of a template's containers, comma-separated.
    static func containerCells(_ podSpec: JSONValue?) -> [JSONValue] {
        let containers = podSpec?.arrayMember("containers") ?? []
        return [
            .string(containers.map { $0.stringMember("name") ?? "" }.joined(separator: ",")),
            .string(containers.map { $0.stringMember("image") ?? "" }.joined(separator: ",")),
        ]
    }

    static let containersColumn = TableColumn(name: "Containers", description: "The template's container names.", priority: 1)
    static let imagesColumn = TableColumn(name: "Images", description: "The template's container images.", priority: 1)
    static let selectorColumn = TableColumn(name: "Selector", description: "The selector of the pods it manages.", priority: 1)
}
