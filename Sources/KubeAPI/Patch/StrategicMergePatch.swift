//! StrategicMergePatch: Kubernetes' strategic merge patch, the format of `kubectl apply`,
//! `cordon` and `taint` (kubectl-compat §5.10, §5.16, §5.18, §6).
//!
//! Like a JSON merge patch, objects merge member by member and `null` deletes. Unlike it, some
//! lists merge too: a list of objects by a merge key (containers by `name`, ports by
//! `containerPort`...), and a few lists of strings (finalizers) as sets. Which list merges how is
//! a property of the field in the API's Go types; `MergeSchema` below is a small table of the
//! types and fields this server's kinds use, keyed by the field name within its parent type, so
//! a Pod's `spec.containers` and a Deployment's `spec.template.spec.containers` both resolve to
//! PodSpec's `containers`. Lists the table does not name are replaced whole (taints and
//! tolerations among them, as in Kubernetes).
//!
//! Directives, as Kubernetes applies them server-side:
//! - `$patch: replace` on an object: the patch's other members become the object.
//!   `$patch: delete`: the object becomes `{}`. `$patch: merge`: the default, accepted.
//! - In a merged list, an item `{"name": "x", "$patch": "delete"}` deletes the item with that
//!   key; an item `{"$patch": "replace"}` makes the list the patch's other items. Items with
//!   `$patch: merge` merge as usual. (In a replaced list the same items are honoured the same
//!   way, so no directive survives.)
//! - `$retainKeys: [..]`: members of the original not listed are dropped before merging.
//! - `$deleteFromPrimitiveList/<field>: [..]`: those values are removed from the list.
//! - `$setElementOrder/<field>: [..]`: the merged list follows this order; items only on the
//!   server keep their relative order and are interleaved as Kubernetes does.
//! The result never holds a directive. Keys that merely begin with `$` are ordinary data.
import Wire

/// How a list field merges under a strategic merge patch.
public enum ListMergeStrategy: Sendable, Equatable {
    /// The patch's list replaces the original (the default).
    case replace
    /// Objects are matched by this member; matches merge, others are appended.
    case mergeByKey(String)
    /// Scalars are merged as a set (union, original order first).
    case mergePrimitives
}

/// Kubernetes strategic merge patch.
public enum StrategicMergePatch {
    /// The result of applying `patch` (a JSON object) to `original` (an object; anything else,
    /// such as `null` for a missing object, counts as `{}`). `kind` is the object's Kind
    /// (`Pod`, `Deployment`...), which picks the merge keys; an unknown Kind merges only
    /// metadata's and status's keyed lists and replaces every other list.
    public static func apply(_ patch: JSONValue, to original: JSONValue, kind: String) throws(PatchError) -> JSONValue {
        guard case .object(let patchMembers) = patch else {
            throw .malformed("a strategic merge patch must be a JSON object, found \(patch.kindName)")
        }
        var originalMembers: JSONObject?
        if case .object(let members) = original { originalMembers = members }
        return .object(try Merger.mergeObject(originalMembers, patchMembers, schema: MergeSchema.root(forKind: kind), path: ""))
    }

    /// How the list at `path` (field names from the object's root; list items are passed through
    /// implicitly, e.g. `["spec", "containers", "ports"]`) of an object of `kind` merges.
    public static func listStrategy(kind: String, path: [String]) -> ListMergeStrategy {
        var schema: MergeSchema? = MergeSchema.root(forKind: kind)
        for (position, name) in path.enumerated() {
            guard let current = schema else { return .replace }
            let field = current.field(name)
            if position == path.count - 1 { return field.strategy }
            schema = field.schema
        }
        return .replace
    }
}

/// One field of a schema type: how a list there merges, and the type of the value (for a list,
/// of its elements) when that type has special fields of its own.
struct MergeField {
    var strategy: ListMergeStrategy = .replace
    var schema: MergeSchema?
}

/// The Kubernetes API types this server serves, reduced to the fields strategic merge treats
/// specially (the `patchStrategy`/`patchMergeKey` tags of the Go types). A field's rule depends
/// on the type it is a member of, never on its absolute path.
enum MergeSchema: Sendable {
    // Roots, one per family of kinds.
    case genericObject, pod, node, service, workload, cronJob, podTemplate
    // Nested types.
    case objectMeta, podTemplateSpec, podSpec, container, workloadSpec, cronJobSpec, jobTemplateSpec
    case serviceSpec, nodeStatus, conditionedStatus

    /// Kinds whose `spec.template` is a pod template.
    static let workloadKinds: Set<String> = ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Job"]

    static func root(forKind kind: String) -> MergeSchema {
        switch kind {
        case "Pod": .pod
        case "Node": .node
        case "Service": .service
        case "CronJob": .cronJob
        case "PodTemplate": .podTemplate
        case _ where workloadKinds.contains(kind): .workload
        default: .genericObject
        }
    }

    private static func keyed(_ key: String, _ element: MergeSchema? = nil) -> MergeField {
        MergeField(strategy: .mergeByKey(key), schema: element)
    }

    private static func object(_ schema: MergeSchema) -> MergeField {
        MergeField(schema: schema)
    }

    /// The table. Anything not listed is a plain field: objects merge, lists are replaced.
    func field(_ name: String) -> MergeField {
        switch (self, name) {
        case (.genericObject, "metadata"), (.pod, "metadata"), (.node, "metadata"), (.service, "metadata"),
            (.workload, "metadata"), (.cronJob, "metadata"), (.podTemplate, "metadata"),
            (.podTemplateSpec, "metadata"), (.jobTemplateSpec, "metadata"):
            return Self.object(.objectMeta)
        case (.genericObject, "status"), (.pod, "status"), (.workload, "status"), (.cronJob, "status"):
            return Self.object(.conditionedStatus)
        case (.pod, "spec"), (.podTemplateSpec, "spec"):
            return Self.object(.podSpec)
        case (.node, "status"):
            return Self.object(.nodeStatus)
        case (.service, "spec"):
            return Self.object(.serviceSpec)
        case (.workload, "spec"), (.jobTemplateSpec, "spec"):
            return Self.object(.workloadSpec)
        case (.cronJob, "spec"):
            return Self.object(.cronJobSpec)
        case (.podTemplate, "template"), (.workloadSpec, "template"):
            return Self.object(.podTemplateSpec)
        case (.cronJobSpec, "jobTemplate"):
            return Self.object(.jobTemplateSpec)
        case (.objectMeta, "ownerReferences"):
            return Self.keyed("uid")
        case (.objectMeta, "finalizers"):
            return MergeField(strategy: .mergePrimitives)
        case (.podSpec, "containers"), (.podSpec, "initContainers"), (.podSpec, "ephemeralContainers"):
            return Self.keyed("name", .container)
        case (.podSpec, "volumes"), (.podSpec, "imagePullSecrets"):
            return Self.keyed("name")
        case (.container, "ports"):
            return Self.keyed("containerPort")
        case (.container, "env"):
            return Self.keyed("name")
        case (.container, "volumeMounts"):
            return Self.keyed("mountPath")
        case (.serviceSpec, "ports"):
            return Self.keyed("port")
        case (.conditionedStatus, "conditions"), (.nodeStatus, "conditions"), (.nodeStatus, "addresses"):
            return Self.keyed("type")
        default:
            return MergeField()
        }
    }
}

/// The merge itself: pure functions of the original, the patch and the schema.
private enum Merger {
    static let directiveKey = "$patch"
    static let retainKeysKey = "$retainKeys"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    private static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Merges `patch` into `original` (nil: no original, so the patch is only cleaned of
    /// directives and nulls).
    static func mergeObject(_ original: JSONObject?, _ patch: JSONObject, schema: MergeSchema?, path: String) throws(PatchError) -> JSONObject {
        var patch = patch
        if let directive = patch[Self.directiveKey] {
            patch[Self.directiveKey] = nil
            switch directive {
            case .string("replace"): return try mergeObject(nil, patch, schema: schema, path: path)
            case .string("delete"): return JSONObject()
            case .string("merge"): break
            default:
                throw .malformed("\(path.isEmpty ? "patch" : path): unknown $patch directive \(JSON.serialize(directive)) (expected replace, delete or merge)")
            }
        }
        var result = original ?? JSONObject()
        if let retainKeys = patch[Self.retainKeysKey] {
            patch[Self.retainKeysKey] = nil
            try retain(retainKeys, in: &result, patch: patch, path: path)
        }

        var orders: [(field: String, order: [JSONValue])] = []
        var deletions: [(field: String, values: [JSONValue])] = []
        var fields: [(key: String, value: JSONValue)] = []
        for (key, value) in patch.members {
            if key.hasPrefix(Self.setElementOrderPrefix) {
                orders.append((String(key.dropFirst(Self.setElementOrderPrefix.count)), try directiveList(value, key: key, path: path)))
            } else if key.hasPrefix(Self.deleteFromPrimitiveListPrefix) {
                deletions.append((String(key.dropFirst(Self.deleteFromPrimitiveListPrefix.count)), try directiveList(value, key: key, path: path)))
            } else {
                fields.append((key, value))
            }
        }
        // $setElementOrder orders against the list as the server had it.
        var serverLists: [String: [JSONValue]] = [:]
        for (field, _) in orders {
            if case .array(let list)? = result[field] { serverLists[field] = list }
        }

        for (field, values) in deletions {
            guard case .array(let list)? = result[field] else { continue }
            result[field] = .array(list.filter { element in !values.contains { JSONPatch.valuesEqual($0, element) } })
        }
        for (key, value) in fields {
            if value == .null {
                result[key] = nil
                continue
            }
            let field = schema?.field(key) ?? MergeField()
            result[key] = try mergeValue(result[key], value, field: field, path: Self.child(path, key))
        }
        for (field, order) in orders {
            guard case .array(let merged)? = result[field] else { continue }
            let fieldPath = Self.child(path, field)
            let mergeKey = Self.mergeKey(of: schema?.field(field) ?? MergeField())
            try validate(order: order, patchList: patch[field], mergeKey: mergeKey, path: fieldPath)
            result[field] = .array(Self.ordered(merged, patchOrder: order, serverOrder: serverLists[field] ?? [], mergeKey: mergeKey))
        }
        return result
    }

    /// The merge of one member: objects with objects and lists with lists merge; anything else
    /// is the patch's value, cleaned.
    private static func mergeValue(_ original: JSONValue?, _ patch: JSONValue, field: MergeField, path: String) throws(PatchError) -> JSONValue {
        switch (original, patch) {
        case (.object(let originalMembers)?, .object(let patchMembers)):
            return .object(try mergeObject(originalMembers, patchMembers, schema: field.schema, path: path))
        case (.array(let originalList)?, .array(let patchList)):
            return .array(try mergeList(originalList, patchList, field: field, path: path))
        case (_, .object(let patchMembers)):
            return .object(try mergeObject(nil, patchMembers, schema: field.schema, path: path))
        case (_, .array(let patchList)):
            return .array(try mergeList([], patchList, field: field, path: path))
        default:
            return patch
        }
    }

    private static func mergeKey(of field: MergeField) -> String? {
        if case .mergeByKey(let key) = field.strategy { return key }
        return nil
    }

    private static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], field: MergeField, path: String) throws(PatchError) -> [JSONValue] {
        switch field.strategy {
        case .mergePrimitives:
            for (position, element) in patch.enumerated() {
                switch element {
                case .object, .array:
                    throw .malformed("\(path)[\(position)]: a list merged as a set holds only scalars, found \(element.kindName)")
                default: break
                }
            }
            var merged: [JSONValue] = []
            for element in original + patch where !merged.contains(where: { JSONPatch.valuesEqual($0, element) }) {
                merged.append(element)
            }
            return Self.ordered(merged, patchOrder: patch, serverOrder: original, mergeKey: nil)
        case .replace:
            return try cleaned(try listItems(patch, mergeKey: nil, path: path), field: field, path: path)
        case .mergeByKey(let key):
            let items = try listItems(patch, mergeKey: key, path: path)
            if items.replaceAll { return try cleaned(items, field: field, path: path) }
            let server = original.filter { element in
                !items.deletedKeys.contains { deleted in Self.identity(element, mergeKey: key).map { JSONPatch.valuesEqual($0, deleted) } ?? false }
            }
            let elementField = MergeField(schema: field.schema)
            var merged = server
            for (position, item) in items.kept {
                let itemPath = "\(path)[\(position)]"
                if let match = Self.position(of: item, in: merged, mergeKey: key) {
                    merged[match] = try mergeValue(merged[match], item, field: elementField, path: itemPath)
                } else {
                    merged.append(try mergeValue(nil, item, field: elementField, path: itemPath))
                }
            }
            return Self.ordered(merged, patchOrder: items.kept.map(\.value), serverOrder: server, mergeKey: key)
        }
    }

    /// A patch list's items once the list directives are taken out, each with its place in the
    /// patch list (for error paths).
    private struct ListItems {
        var kept: [(position: Int, value: JSONValue)] = []
        /// Merge-key values of `$patch: delete` items.
        var deletedKeys: [JSONValue] = []
        /// Set by a `$patch: replace` item: the kept items are the whole list.
        var replaceAll = false
    }

    /// The kept items alone, cleaned of directives and nulls: the list when it is replaced.
    private static func cleaned(_ items: ListItems, field: MergeField, path: String) throws(PatchError) -> [JSONValue] {
        let elementField = MergeField(schema: field.schema)
        var replaced: [JSONValue] = []
        for (position, item) in items.kept {
            replaced.append(try mergeValue(nil, item, field: elementField, path: "\(path)[\(position)]"))
        }
        return replaced
    }

    /// Splits out the list directives: `$patch: delete` items become deleted keys, a
    /// `$patch: replace` item sets `replaceAll`, `$patch: merge` is dropped from its item.
    private static func listItems(_ patch: [JSONValue], mergeKey: String?, path: String) throws(PatchError) -> ListItems {
        var items = ListItems()
        for (position, element) in patch.enumerated() {
            let place = "\(path)[\(position)]"
            guard case .object(var members) = element else {
                if let mergeKey {
                    throw .malformed("\(place): a list merged by \(JSON.quoted(mergeKey)) holds objects, found \(element.kindName)")
                }
                items.kept.append((position, element))
                continue
            }
            if let directive = members[Self.directiveKey] {
                members[Self.directiveKey] = nil
                switch directive {
                case .string("delete"):
                    if let mergeKey {
                        guard let key = members[mergeKey] else {
                            throw .malformed("\(place): a $patch: delete item does not contain the merge key \(JSON.quoted(mergeKey))")
                        }
                        items.deletedKeys.append(key)
                    }
                    continue
                case .string("replace"):
                    items.replaceAll = true
                    continue
                case .string("merge"):
                    break
                default:
                    throw .malformed("\(place): unknown $patch directive \(JSON.serialize(directive)) (expected replace, delete or merge)")
                }
            }
            if let mergeKey, members[mergeKey] == nil {
                throw .malformed("\(place): \(JSON.serialize(.object(members))) does not contain declared merge key: \(mergeKey)")
            }
            items.kept.append((position, .object(members)))
        }
        return items
    }

    /// Drops the members of `result` that `$retainKeys` does not list; the patch may set only
    /// listed members.
    private static func retain(_ retainKeys: JSONValue, in result: inout JSONObject, patch: JSONObject, path: String) throws(PatchError) {
        let place = path.isEmpty ? "patch" : path
        guard case .array(let elements) = retainKeys else {
            throw .malformed("\(place): $retainKeys must be a list of strings, found \(retainKeys.kindName)")
        }
        var retained: Set<String> = []
        for element in elements {
            guard case .string(let key) = element else {
                throw .malformed("\(place): $retainKeys must be a list of strings, found \(element.kindName) in it")
            }
            retained.insert(key)
        }
        for (key, value) in patch.members where value != .null && !Self.isDirective(key) && !retained.contains(key) {
            throw .malformed("\(place): the patch sets \(JSON.quoted(key)), which $retainKeys does not list")
        }
        for key in result.keys where !retained.contains(key) { result[key] = nil }
    }

    private static func isDirective(_ key: String) -> Bool {
        key == directiveKey || key == retainKeysKey || key.hasPrefix(setElementOrderPrefix) || key.hasPrefix(deleteFromPrimitiveListPrefix)
    }

    private static func directiveList(_ value: JSONValue, key: String, path: String) throws(PatchError) -> [JSONValue] {
        guard case .array(let list) = value else {
            throw .malformed("\(path.isEmpty ? "patch" : path): \(key) must be a list, found \(value.kindName)")
        }
        return list
    }

    /// The patch list's items (deletions and directive items aside) must all appear in the
    /// `$setElementOrder` list, in the same relative order; with a merge key, every entry of the
    /// order list must carry it.
    private static func validate(order: [JSONValue], patchList: JSONValue?, mergeKey: String?, path: String) throws(PatchError) {
        if let mergeKey {
            for (position, entry) in order.enumerated() where entry[mergeKey] == nil {
                throw .malformed("\(path): $setElementOrder entry \(position) (\(JSON.serialize(entry))) does not contain the merge key \(JSON.quoted(mergeKey))")
            }
        }
        guard case .array(let patchItems)? = patchList else { return }
        var lastPosition = -1
        for item in patchItems {
            if case .object(let members) = item, members[Self.directiveKey] != nil { continue }
            guard let position = Self.position(of: item, in: order, mergeKey: mergeKey), position > lastPosition else {
                throw .malformed("\(path): the patch's item \(JSON.serialize(item)) is missing from $setElementOrder or out of its order")
            }
            lastPosition = position
        }
    }

    // MARK: - Ordering

    /// What identifies a list element: its merge key's value, or the element itself.
    private static func identity(_ element: JSONValue, mergeKey: String?) -> JSONValue? {
        guard let mergeKey else { return element }
        return element[mergeKey]
    }

    private static func position(of element: JSONValue, in list: [JSONValue], mergeKey: String?) -> Int? {
        guard let wanted = identity(element, mergeKey: mergeKey) else { return nil }
        return list.firstIndex { identity($0, mergeKey: mergeKey).map { JSONPatch.valuesEqual($0, wanted) } ?? false }
    }

    /// Kubernetes' order for a merged list. The items the patch names keep the patch's order;
    /// the items only the server has keep the server's order; the two runs are interleaved by
    /// taking a server-only item first whenever the server had it before the next patch item.
    private static func ordered(_ merged: [JSONValue], patchOrder: [JSONValue], serverOrder: [JSONValue], mergeKey: String?) -> [JSONValue] {
        var patchItems: [(element: JSONValue, rank: Int)] = []
        var serverOnly: [(element: JSONValue, rank: Int)] = []
        for element in merged {
            if let rank = position(of: element, in: patchOrder, mergeKey: mergeKey) {
                patchItems.append((element, rank))
            } else {
                serverOnly.append((element, position(of: element, in: serverOrder, mergeKey: mergeKey) ?? Int.max))
            }
        }
        let patchRun = stableSorted(patchItems)
        let serverRun = stableSorted(serverOnly)
        var result: [JSONValue] = []
        result.reserveCapacity(merged.count)
        var serverIndex = 0
        var patchIndex = 0
        while serverIndex < serverRun.count || patchIndex < patchRun.count {
            guard serverIndex < serverRun.count else {
                result.append(patchRun[patchIndex])
                patchIndex += 1
                continue
            }
            guard patchIndex < patchRun.count else {
                result.append(serverRun[serverIndex])
                serverIndex += 1
                continue
            }
            let serverRank = position(of: serverRun[serverIndex], in: serverOrder, mergeKey: mergeKey)
            let patchRank = position(of: patchRun[patchIndex], in: serverOrder, mergeKey: mergeKey)
            if let serverRank, let patchRank, serverRank < patchRank {
                result.append(serverRun[serverIndex])
                serverIndex += 1
            } else {
                result.append(patchRun[patchIndex])
                patchIndex += 1
            }
        }
        precondition(result.count == merged.count, "ordering \(merged.count) items produced \(result.count)")
        return result
    }

    private static func stableSorted(_ items: [(element: JSONValue, rank: Int)]) -> [JSONValue] {
        items.enumerated()
            .sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }
            .map(\.element.element)
    }
}
