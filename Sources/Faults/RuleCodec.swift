//! Rules and policies as JSON (the control API's bodies) and rules from command-line flags.
//!
//! One rule is one object; `kind` says which, the other members depend on it:
//!
//!     {"kind": "partition", "groups": [["etcd-1"], ["etcd-2", "etcd-3"]], "mode": "blackhole"}
//!     {"kind": "isolate", "host": "etcd-1", "mode": "reject", "ttl": "10s", "include_client": true}
//!     {"kind": "cut", "from": "etcd-1", "to": "etcd-2"}
//!     {"kind": "cuts", "links": [["etcd-1", "etcd-2"], ["etcd-3", "*"]]}
//!     {"kind": "bridge", "groups": [["etcd-1", "etcd-2"], ["etcd-4", "etcd-5"]], "bridge": "etcd-3"}
//!     {"kind": "majorities-ring", "hosts": ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]}
//!     {"kind": "latency", "from": "client", "to": "etcd-1", "delay": "200ms", "jitter": "20ms"}
//!     {"kind": "bandwidth", "from": "etcd-1", "to": "*", "bytes_per_second": "1MB"}
//!     {"kind": "reset", "from": "client", "to": "etcd-1", "probability": 0.5}
//!
//! `mode` (blocking kinds; default blackhole), `ttl` (a Go duration) and `probability` (0 < p <= 1)
//! are optional on every kind. `bridge` and `majorities-ring` are read into the `cuts` they
//! expand to. Members the kind does not know are refused (a typo must not silently do nothing);
//! `id` and `expires_in_ms`, which `GET /rules` writes, are ignored so its output can be posted back.
//! `delay_ns`, `jitter_ns` and `ttl_ns` (integer nanoseconds) are read in place of the durations,
//! and `expires_at_ns` is ignored, so rules written for the testbed's first proxy are understood.
//! Flags name the same members: `latency --from client --to etcd-1 --delay 200ms`, with
//! `--group a,b` repeated for groups and `--hosts a,b,c` for lists.

import Base
import Wire

/// How error messages name a member: `"delay"` for JSON, `--delay` for flags.
public enum FieldStyle: Sendable {
    case json
    case flags

    func name(_ field: String) -> String {
        switch self {
        case .json: "\"\(field)\""
        case .flags: "--" + field.replacingUnderscores()
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

// MARK: - Encoding

extension FaultRule {
    /// The rule as a JSON object that `FaultRule.parse(json:)` reads back equal.
    public var json: JSONValue {
        var object: JSONObject = ["kind": .string(kind.name)]
        switch kind {
        case .partition(let groups, let mode):
            object["groups"] = .array(groups.map { .array($0.map(JSONValue.string)) })
            object["mode"] = .string(mode.rawValue)
        case .isolate(let host, let mode, let includeClient):
            object["host"] = .string(host)
            object["mode"] = .string(mode.rawValue)
            if includeClient { object["include_client"] = .bool(true) }
        case .cut(let from, let to, let mode):
            object["from"] = .string(from)
            object["to"] = .string(to)
            object["mode"] = .string(mode.rawValue)
        case .cuts(let links, let mode):
            object["links"] = .array(links.map { .array([.string($0.from), .string($0.to)]) })
            object["mode"] = .string(mode.rawValue)
        case .latency(let from, let to, let delay, let jitter):
            object["from"] = .string(from)
            object["to"] = .string(to)
            object["delay"] = .string(FaultText.duration(delay))
            object["jitter"] = .string(FaultText.duration(jitter))
        case .bandwidth(let from, let to, let rate):
            object["from"] = .string(from)
            object["to"] = .string(to)
            object["bytes_per_second"] = .integer(rate)
        case .reset(let from, let to):
            object["from"] = .string(from)
            object["to"] = .string(to)
        }
        if let ttl { object["ttl"] = .string(FaultText.duration(ttl)) }
        if let probability { object["probability"] = .number(probability) }
        return .object(object)
    }
}

extension ActiveRule {
    /// The rule with its id first and, for a rule with a TTL, the milliseconds it has left.
    public func json(now: Nanoseconds) -> JSONValue {
        guard case .object(let body) = rule.json else { fatalError("unreachable: a rule encodes as an object") }
        var object: JSONObject = ["id": .string(id)]
        for (key, value) in body.members { object[key] = value }
        if let expires { object["expires_in_ms"] = .integer(max(0, expires - now) / Time.millisecond) }
        return .object(object)
    }
}

extension LinkPolicy {
    public var json: JSONValue {
        var object: JSONObject = [
            "blocked": .string(blocking.description),
            "delay": .string(FaultText.duration(delay)),
            "jitter": .string(FaultText.duration(jitter)),
        ]
        object["bytes_per_second"] = bytesPerSecond.map(JSONValue.integer) ?? .null
        return .object(object)
    }
}

extension ResetAction {
    public var json: JSONValue {
        var object: JSONObject = ["from": .string(link.from), "to": .string(link.to)]
        if let probability { object["probability"] = .number(probability) }
        return .object(object)
    }
}

// MARK: - Parsing JSON

extension FaultRule {
    /// The kinds a client may write (`cuts` is also what bridge and majorities-ring become).
    public static let kindNames = ["partition", "isolate", "cut", "cuts", "bridge", "majorities-ring", "latency",
        "bandwidth", "reset"]

    /// Reads a request body: a JSON array of rules, one rule object, or `{"rules": [...]}`.
    public static func parseList(body: [UInt8]) throws(FaultError) -> [FaultRule] {
        let value: JSONValue
        do {
            value = try body.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            throw FaultError("body is not JSON: \(error)")
        }
        let items: [JSONValue]
        switch value {
        case .array(let elements): items = elements
        case .object(let object) where object["rules"] != nil:
            guard case .array(let elements)? = object["rules"] else { throw FaultError("\"rules\" must be an array") }
            items = elements
        case .object: items = [value]
        default: throw FaultError("expected an array of rules, found \(value.kindName)")
        }
        guard !items.isEmpty else { throw FaultError("no rules given") }
        var rules: [FaultRule] = []
        for (position, item) in items.enumerated() {
            do {
                rules.append(try parse(json: item))
            } catch {
                throw items.count == 1 ? error : FaultError("rule \(position + 1): \(error.message)")
            }
        }
        return rules
    }

    /// Reads one rule object; messages name members as `style` spells them.
    public static func parse(json value: JSONValue, style: FieldStyle = .json) throws(FaultError) -> FaultRule {
        guard case .object(let object) = value else { throw FaultError("a rule must be an object, found \(value.kindName)") }
        var fields = Fields(object: object, style: style)
        guard let kind = try fields.string("kind") else {
            throw FaultError("a rule needs \(style.name("kind")) (one of: \(kindNames.joined(separator: ", ")))")
        }
        let ttlNanoseconds = try fields.nanoseconds("ttl_ns")
        let ttl = try fields.duration("ttl", example: "10s") ?? ttlNanoseconds
        let probability = try fields.probability()
        let rule: FaultRule
        switch kind {
        case "partition":
            rule = FaultRule(.partition(groups: try fields.groups("groups", kind: kind), mode: try fields.mode()))
        case "isolate":
            rule = FaultRule(.isolate(host: try fields.required("host", kind: kind, example: "etcd-1"), mode: try fields.mode(),
                                      includeClient: try fields.bool("include_client") ?? false))
        case "cut":
            let (from, to) = try fields.link(kind: kind)
            rule = FaultRule(.cut(from: from, to: to, mode: try fields.mode()))
        case "cuts":
            rule = FaultRule(.cuts(links: try fields.links(), mode: try fields.mode()))
        case "bridge":
            let groups = try fields.groups("groups", kind: kind)
            guard groups.count == 2 else { throw FaultError("bridge needs exactly two \(style.name("groups")), got \(groups.count)") }
            let bridge = try fields.required("bridge", kind: kind, example: "etcd-3")
            rule = try .bridge(groups[0], groups[1], via: bridge, mode: try fields.mode())
        case "majorities-ring":
            rule = try .majoritiesRing(try fields.hostList("hosts", kind: kind), mode: try fields.mode())
        case "latency":
            let (from, to) = try fields.link(kind: kind)
            // `delay_ns` and `jitter_ns` (integer nanoseconds) are accepted too, as the testbed's
            // first fault CLI writes them.
            let delayNanoseconds = try fields.nanoseconds("delay_ns")
            let jitterNanoseconds = try fields.nanoseconds("jitter_ns")
            guard let delay = try fields.duration("delay", example: "200ms") ?? delayNanoseconds else {
                throw FaultError("latency needs \(style.name("delay")) like 200ms")
            }
            let jitter = try fields.duration("jitter", example: "20ms") ?? jitterNanoseconds ?? 0
            rule = FaultRule(.latency(from: from, to: to, delay: delay, jitter: jitter))
        case "bandwidth":
            let (from, to) = try fields.link(kind: kind)
            guard let rate = try fields.bytes("bytes_per_second") else {
                throw FaultError("bandwidth needs \(style.name("bytes_per_second")) like 1MB or 1000000")
            }
            rule = FaultRule(.bandwidth(from: from, to: to, bytesPerSecond: rate))
        case "reset":
            let (from, to) = try fields.link(kind: kind)
            rule = FaultRule(.reset(from: from, to: to))
        default:
            throw FaultError("unknown rule kind '\(kind)' (one of: \(kindNames.joined(separator: ", ")))")
        }
        try fields.refuseUnused(kind: kind)
        return FaultRule(rule.kind, ttl: ttl, probability: probability)
    }
}

/// The members of one rule object, each read at most once; what is left over is an error.
private struct Fields {
    var object: JSONObject
    let style: FieldStyle
    var used: Set<String> = ["id", "expires_in_ms", "expires_at_ns"]

    init(object: JSONObject, style: FieldStyle) {
        self.object = object
        self.style = style
    }

    mutating func take(_ field: String) -> JSONValue? {
        used.insert(field)
        guard let value = object[field], value != .null else { return nil }
        return value
    }

    mutating func string(_ field: String) throws(FaultError) -> String? {
        guard let value = take(field) else { return nil }
        guard case .string(let text) = value else { throw FaultError("\(style.name(field)) must be a string, found \(value.kindName)") }
        return text
    }

    mutating func required(_ field: String, kind: String, example: String) throws(FaultError) -> String {
        guard let text = try string(field), !text.isEmpty else {
            throw FaultError("\(kind) needs \(style.name(field)) like \(example)")
        }
        return text
    }

    mutating func link(kind: String) throws(FaultError) -> (HostName, HostName) {
        (try required("from", kind: kind, example: "etcd-1"), try required("to", kind: kind, example: "etcd-2"))
    }

    mutating func bool(_ field: String) throws(FaultError) -> Bool? {
        guard let value = take(field) else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default: throw FaultError("\(style.name(field)) must be true or false, found \(Self.show(value))")
        }
    }

    mutating func mode() throws(FaultError) -> BlockMode {
        guard let text = try string("mode") else { return .blackhole }
        guard let mode = BlockMode(rawValue: text) else {
            throw FaultError("\(style.name("mode")) must be blackhole or reject, got '\(text)'")
        }
        return mode
    }

    mutating func duration(_ field: String, example: String) throws(FaultError) -> Nanoseconds? {
        guard let value = take(field) else { return nil }
        guard case .string(let text) = value, let duration = Time.parse(text) else {
            throw FaultError("\(style.name(field)) must be a duration like \(example), got \(Self.show(value))")
        }
        return duration
    }

    mutating func nanoseconds(_ field: String) throws(FaultError) -> Nanoseconds? {
        guard let value = take(field) else { return nil }
        guard case .integer(let number) = value, number >= 0 else {
            throw FaultError("\(style.name(field)) must be a non-negative integer of nanoseconds, got \(Self.show(value))")
        }
        return number
    }

    mutating func probability() throws(FaultError) -> Double? {
        guard let value = take("probability") else { return nil }
        let number: Double
        switch value {
        case .integer(let whole): number = Double(whole)
        case .number(let fraction): number = fraction
        case .string(let text) where Double(text) != nil: number = Double(text)!
        default: throw FaultError("\(style.name("probability")) must be a number in (0, 1], got \(Self.show(value))")
        }
        guard number > 0, number <= 1 else { throw FaultError("\(style.name("probability")) must be in (0, 1], got \(number)") }
        return number
    }

    mutating func bytes(_ field: String) throws(FaultError) -> Int64? {
        guard let value = take(field) else { return nil }
        switch value {
        case .integer(let whole) where whole >= 1: return whole
        case .string(let text):
            if let count = FaultText.bytes(text), count >= 1 { return count }
        default: break
        }
        throw FaultError("\(style.name(field)) must be a positive byte count like 1000000, 64KB or 10MiB, got \(Self.show(value))")
    }

    mutating func hostList(_ field: String, kind: String) throws(FaultError) -> [HostName] {
        guard let value = take(field) else { throw FaultError("\(kind) needs \(style.name(field)), a list of hosts") }
        return try Self.hosts(value, field: style.name(field))
    }

    mutating func groups(_ field: String, kind: String) throws(FaultError) -> [[HostName]] {
        guard let value = take(field) else {
            throw FaultError("\(kind) needs \(style.name(field)), a list of host lists like [[\"etcd-1\"], [\"etcd-2\", \"etcd-3\"]]")
        }
        guard case .array(let elements) = value else { throw FaultError("\(style.name(field)) must be a list of host lists") }
        var groups: [[HostName]] = []
        for element in elements { groups.append(try Self.hosts(element, field: "each of \(style.name(field))")) }
        return groups
    }

    mutating func links() throws(FaultError) -> [Link] {
        guard let value = take("links") else { throw FaultError("cuts needs \(style.name("links")) like [[\"etcd-1\", \"etcd-2\"]]") }
        guard case .array(let elements) = value else { throw FaultError("\(style.name("links")) must be a list of [from, to] pairs") }
        var links: [Link] = []
        for element in elements {
            let pair = try Self.hosts(element, field: "each of \(style.name("links"))")
            guard pair.count == 2 else { throw FaultError("each of \(style.name("links")) must be a [from, to] pair") }
            links.append(Link(from: pair[0], to: pair[1]))
        }
        return links
    }

    func refuseUnused(kind: String) throws(FaultError) {
        let unused = object.keys.filter { !used.contains($0) }
        guard unused.isEmpty else {
            throw FaultError("\(kind) does not take \(unused.map { style.name($0) }.joined(separator: ", "))")
        }
    }

    static func hosts(_ value: JSONValue, field: String) throws(FaultError) -> [HostName] {
        guard case .array(let elements) = value else { throw FaultError("\(field) must be a list of host names") }
        var names: [HostName] = []
        for element in elements {
            guard case .string(let name) = element, !name.isEmpty else { throw FaultError("\(field) must hold host names (strings)") }
            names.append(name)
        }
        return names
    }

    static func show(_ value: JSONValue) -> String {
        if case .string(let text) = value { return "'\(text)'" }
        return JSON.serialize(value)
    }
}

// MARK: - Parsing flags

extension FaultRule {
    /// Reads a rule from command-line words: the kind, then `--flag value` pairs naming the same
    /// members as JSON (`--bytes-per-second` for `bytes_per_second`). `--group a,b` repeats for
    /// `groups`; `--hosts a,b,c` and `--links a:b,c:d` take comma-separated lists.
    public static func parse(arguments: [String]) throws(FaultError) -> FaultRule {
        guard let kind = arguments.first, !kind.hasPrefix("-") else {
            throw FaultError("name the fault first: one of \(kindNames.joined(separator: ", "))")
        }
        var object: JSONObject = ["kind": .string(kind)]
        var groups: [JSONValue] = []
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--"), flag.count > 2 else { throw FaultError("expected a --flag, got '\(flag)'") }
            let field = String(flag.dropFirst(2).map { $0 == "-" ? "_" : $0 })
            guard let text = rest.popFirst() else { throw FaultError("\(flag) needs a value") }
            let list = text.split(separator: ",").map { JSONValue.string(String($0)) }
            switch field {
            case "group": groups.append(.array(list))
            case "hosts": object["hosts"] = .array(list)
            case "links":
                object["links"] = .array(text.split(separator: ",").map { pair in
                    .array(pair.split(separator: ":", omittingEmptySubsequences: false).map { .string(String($0)) })
                })
            case "groups": throw FaultError("use --group once per group, e.g. --group etcd-1 --group etcd-2,etcd-3")
            default:
                guard object[field] == nil else { throw FaultError("\(flag) given twice") }
                object[field] = .string(text)
            }
        }
        if !groups.isEmpty { object["groups"] = .array(groups) }
        return try parse(json: .object(object), style: .flags)
    }
}
