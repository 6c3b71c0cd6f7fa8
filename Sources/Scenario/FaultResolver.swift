//! FaultResolver: the checks one nemesis entry must pass — which fields its kind takes, which it
//! needs, its selectors against the topology, its parameters' syntax, and a schedule that fits
//! inside the workload (every fault healed before the workload ends, periodic firings that do
//! not overlap themselves unless `overlap: true`).

import Base
import Topology

typealias FaultField = FaultSpec.CodingKeys

extension ScenarioResolver {
    /// Fields that only place an entry in time; every kind takes them.
    static let timingFields: Set<FaultField> = [.fault, .at, .every, .until, .duration, .overlap]

    /// The parameter fields each kind takes.
    static func parameterFields(_ kind: FaultKind) -> Set<FaultField> {
        switch kind {
        case .isolate: return [.target, .mode, .includeClient]
        case .partition: return [.target, .groups, .mode]
        case .bridge, .swizzle: return [.target, .mode]
        case .majoritiesRing: return [.mode]
        case .cut: return [.from, .to, .mode]
        case .latency: return [.target, .from, .to, .delay, .jitter, .includeClient]
        case .bandwidth: return [.target, .from, .to, .rate, .includeClient]
        case .reset: return [.target, .from, .to, .includeClient]
        case .kill, .terminate, .restart: return [.target, .wipe]
        case .pause: return [.target]
        case .skew: return [.target, .offset, .rate]
        case .mix: return [.faults]
        }
    }

    static func fieldList(_ fields: Set<FaultField>) -> String {
        FaultField.allCases.filter { fields.contains($0) && !timingFields.contains($0) }.map(\.rawValue).joined(separator: ", ")
    }

    func resolveFault(_ located: Located<FaultSpec>, index: Int, workloadDuration: Nanoseconds) throws(DocumentError) -> Fault {
        let spec = located.value
        let kind = spec.fault.value
        let kinds = try resolveChoices(spec)
        var allowed = Self.timingFields.union(Self.parameterFields(kind))
        for choice in kinds { allowed.formUnion(Self.parameterFields(choice)) }
        for (field, position) in spec.presentFields where !allowed.contains(field) {
            let takes = kind == .mix
                ? "none of the mix's faults (\(kinds.map(\.rawValue).joined(separator: ", "))) takes it"
                : "\(kind) takes: \(Self.fieldList(Self.parameterFields(kind)))"
            throw error(position, "'\(field.rawValue)' does not apply to \(kind); \(takes)")
        }
        if kinds.contains(where: \.isInstant), let given = spec.duration {
            throw error(given.position, "\(kind) happens once and is not undone, so it takes no 'for'; remove it")
        }
        for choice in kinds { try checkRequired(choice, spec, entry: located.position) }
        let parameters = try resolveParameters(spec, kinds: kinds)
        let duration = try resolveDuration(spec, kind: kind, entry: located.position)
        let timing = try resolveTiming(spec, duration: duration, workloadDuration: workloadDuration, entry: located.position)
        let fault = Fault(index: index, kind: kind, timing: timing, duration: duration, overlap: spec.overlap?.value ?? false,
            parameters: parameters, line: located.position?.line ?? 1)
        try checkFitsWorkload(fault, spec, workloadDuration: workloadDuration)
        return fault
    }

    /// The kinds the entry may fire: its own, or for `mix` the ones listed under `faults`.
    func resolveChoices(_ spec: FaultSpec) throws(DocumentError) -> [FaultKind] {
        guard spec.fault.value == .mix else { return [spec.fault.value] }
        guard let faults = spec.faults, !faults.value.isEmpty else {
            throw error(spec.faults?.position ?? spec.fault.position,
                "mix picks one fault kind at random each firing; list them, e.g. faults: [isolate, kill, pause]")
        }
        var kinds: [FaultKind] = []
        for choice in faults.value {
            guard choice.value != .mix else { throw error(choice.position, "a mix cannot contain another mix") }
            guard !choice.value.isInstant else {
                throw error(choice.position, "\(choice.value) is instant, and every fault of a mix lasts 'for'; leave it out")
            }
            guard !kinds.contains(choice.value) else { throw error(choice.position, "\(choice.value) is listed twice") }
            kinds.append(choice.value)
        }
        if kinds.contains(.bandwidth) && kinds.contains(.skew) {
            throw error(spec.rate?.position ?? faults.position,
                "'rate' means bytes per second for bandwidth and the clock's speed for skew; put them in separate entries")
        }
        return kinds
    }

    func checkRequired(_ kind: FaultKind, _ spec: FaultSpec, entry: SourcePosition?) throws(DocumentError) {
        let at = spec.fault.position ?? entry
        let hasLink = spec.from != nil || spec.to != nil
        switch kind {
        case .isolate, .bridge, .kill, .terminate, .pause, .restart, .skew:
            guard spec.target != nil else { throw error(at, "\(kind) needs a 'target', e.g. target: leader") }
        case .partition:
            guard (spec.groups == nil) != (spec.target == nil) else {
                throw error(spec.groups?.position ?? at,
                    "partition needs either 'groups' (e.g. groups: [leader, [etcd-2]]) or a 'target' split off from the rest, not both")
            }
        case .cut:
            guard spec.from != nil, spec.to != nil else { throw error(at, "cut needs 'from' and 'to', e.g. from: leader, to: followers") }
        case .latency, .bandwidth, .reset:
            guard (spec.target == nil) == hasLink, spec.target != nil || (spec.from != nil && spec.to != nil) else {
                throw error(spec.target?.position ?? at,
                    "\(kind) needs either a 'target' (all its links) or 'from' and 'to' (one direction), not both")
            }
            if hasLink, let include = spec.includeClient {
                throw error(include.position, "include-client adds the client's links to a 'target'; with 'from' and 'to', name client there instead")
            }
        case .majoritiesRing, .swizzle, .mix: break
        }
        if kind == .latency, spec.delay == nil { throw error(at, "latency needs a 'delay', e.g. delay: 200ms") }
        if kind == .bandwidth, spec.rate == nil { throw error(at, "bandwidth needs a 'rate', e.g. rate: 1MB/s") }
        if kind == .skew, spec.offset == nil { throw error(at, "skew needs an 'offset', e.g. offset: +30s") }
        if kind == .bridge || kind == .majoritiesRing, members.count < 3 {
            throw error(at, "\(kind) needs at least 3 members, and the topology '\(topology.name)' has \(members.count)")
        }
    }

    // MARK: - Parameters

    func resolveParameters(_ spec: FaultSpec, kinds: [FaultKind]) throws(DocumentError) -> FaultParameters {
        var parameters = FaultParameters()
        // The client namespace has links but no process or clock, and is never a member.
        let clientAllowed = kinds.allSatisfy { $0.isNetwork && $0 != .bridge && $0 != .swizzle }
        parameters.target = try spec.target.map { (target) throws(DocumentError) in
            try resolveSelector(target, field: "target", clientAllowed: clientAllowed)
        }
        if kinds.contains(.bridge), let target = spec.target, let selector = parameters.target,
            !(selector == .leader || selector == .random(1) || selector.isSingleName)
        {
            throw error(target.position, "a bridge is one host; use leader, random(1) or a host name")
        }
        parameters.from = try spec.from.map { (from) throws(DocumentError) in try resolveSelector(from, field: "from", clientAllowed: true) }
        parameters.to = try spec.to.map { (to) throws(DocumentError) in try resolveSelector(to, field: "to", clientAllowed: true) }
        if let from = parameters.from, let to = parameters.to, from == to, from.isSingleName || from == .leader {
            throw error(spec.to?.position, "'from' and 'to' are the same host, so there is no link to break")
        }
        parameters.groups = try resolveGroups(spec.groups)
        parameters.mode = spec.mode?.value ?? .blackhole
        parameters.includeClient = spec.includeClient?.value ?? false
        parameters.wipe = spec.wipe?.value ?? false
        try resolveLinkParameters(spec, kinds: kinds, into: &parameters)
        try resolveClockParameters(spec, kinds: kinds, into: &parameters)
        parameters.choices = spec.fault.value == .mix ? kinds : []
        if spec.fault.value == .swizzle, parameters.target == nil { parameters.target = .all }
        return parameters
    }

    func resolveLinkParameters(_ spec: FaultSpec, kinds: [FaultKind], into parameters: inout FaultParameters)
        throws(DocumentError)
    {
        if let delay = spec.delay {
            guard delay.value.nanoseconds > 0 else { throw error(delay.position, "delay must be more than 0, e.g. 200ms") }
            parameters.delay = delay.value.nanoseconds
        }
        if let jitter = spec.jitter { parameters.jitter = jitter.value.nanoseconds }
        if kinds.contains(.bandwidth), let rate = spec.rate {
            guard let bytes = Self.parseBandwidth(rate.value) else {
                throw error(rate.position, "'\(rate.value)' is not a bandwidth; write bytes per second like 1MB/s, 500KB/s or 10000B/s")
            }
            parameters.bytesPerSecond = bytes
        }
    }

    func resolveClockParameters(_ spec: FaultSpec, kinds: [FaultKind], into parameters: inout FaultParameters)
        throws(DocumentError)
    {
        guard kinds.contains(.skew) else { return }
        if let offset = spec.offset {
            guard let value = Self.parseOffset(offset.value) else {
                throw error(offset.position, "'\(offset.value)' is not a clock offset; write a signed duration like +30s, -500ms or 0")
            }
            parameters.clockOffset = value
        }
        if let rate = spec.rate {
            guard let value = Double(rate.value), value.isFinite, value > 0 else {
                throw error(rate.position, "the clock rate is how fast the skewed clock runs, a number above 0 like 1.5 (1 = normal)")
            }
            parameters.clockRate = value
        }
        if parameters.clockOffset == 0 && parameters.clockRate == 1 {
            throw error(spec.offset?.position, "this skew changes nothing (offset 0, rate 1); give an offset or a rate")
        }
    }

    /// `1MB/s`, `500KB/s`, `2GB/s`, `1000B/s` (powers of 1000, as network rates are quoted).
    static func parseBandwidth(_ text: String) -> Int64? {
        guard text.hasSuffix("/s") else { return nil }
        let amount = text.dropLast(2)
        for (unit, factor) in [("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1.0)] where amount.hasSuffix(unit) {
            guard let number = Double(amount.dropLast(unit.count)), number > 0, number.isFinite else { return nil }
            let rate = number * factor
            return rate >= 1 && rate < 1e15 ? Int64(rate) : nil
        }
        return nil
    }

    /// `+30s`, `-500ms`, `0`: a Go duration with an optional sign.
    static func parseOffset(_ text: String) -> Nanoseconds? {
        let negative = text.hasPrefix("-")
        let magnitude = negative || text.hasPrefix("+") ? String(text.dropFirst()) : text
        guard !magnitude.hasPrefix("+"), !magnitude.hasPrefix("-"), case .success(let duration) = GoDuration.parse(magnitude) else {
            return nil
        }
        return negative ? -duration.nanoseconds : duration.nanoseconds
    }

    // MARK: - Selectors

    func resolveSelector(_ located: Located<SelectorSpec>, field: String, clientAllowed: Bool) throws(DocumentError) -> Selector {
        let hostNames = topology.hosts.map(\.name)
        switch located.value {
        case .names(let names):
            guard !names.isEmpty else { throw error(located.position, "'\(field)' lists no hosts; name at least one") }
            var seen: Set<String> = []
            for name in names {
                if Selector.parse(word: name.value) != nil {
                    throw error(name.position,
                        "a list holds host names, and '\(name.value)' is a selector; write '\(field): \(name.value)' on its own")
                }
                guard hostNames.contains(name.value) else { throw unknownHost(name.value, at: name.position) }
                guard seen.insert(name.value).inserted else { throw error(name.position, "'\(name.value)' is listed twice") }
            }
            return .hosts(names.map(\.value))
        case .word(let word):
            guard let selector = Selector.parse(word: word) else {
                if word.hasPrefix("random") {
                    throw error(located.position, "'\(word)' is not a selector; write random(k) with a whole number k, e.g. random(1)")
                }
                if word.hasPrefix("leader(") {
                    throw error(located.position,
                        "'\(word)' names no component lease; write \(Selector.componentLeases.map { "leader(\($0))" }.joined(separator: " or "))")
                }
                guard hostNames.contains(word) else { throw unknownHost(word, at: located.position) }
                return .hosts([word])
            }
            try checkSize(selector, word: word, field: field, clientAllowed: clientAllowed, at: located.position)
            return selector
        }
    }

    func checkSize(_ selector: Selector, word: String, field: String, clientAllowed: Bool, at position: SourcePosition?)
        throws(DocumentError)
    {
        let count = members.count
        switch selector {
        case .client where !clientAllowed:
            throw error(position, "'client' is the namespace the workload runs in; it has links but no process, clock or membership, so it can only be a network fault's target, 'from' or 'to'")
        case .random(let chosen) where chosen < 1 || chosen > count:
            throw error(position, "random(\(chosen)) must choose between 1 and the \(count) members of '\(topology.name)'")
        case .minority, .minorityWithLeader, .followers:
            guard selector.size(members: count) >= 1 else {
                throw error(position, "'\(word)' of a \(count)-member cluster is empty; use a larger topology or another selector")
            }
        default: return
        }
    }

    func unknownHost(_ name: String, at position: SourcePosition?) -> DocumentError {
        let hosts = topology.hosts.map(\.name).joined(separator: ", ")
        return error(position, "unknown host '\(name)' (the topology '\(topology.name)' has: \(hosts)); or use a selector: \(Selector.wordsList)")
    }

    func resolveGroups(_ located: Located<[Located<SelectorSpec>]>?) throws(DocumentError) -> [Selector] {
        guard let located else { return [] }
        guard !located.value.isEmpty else { throw error(located.position, "groups lists no group; give at least one, e.g. groups: [leader]") }
        var groups: [Selector] = []
        var named: [String: Int] = [:]
        for (number, group) in located.value.enumerated() {
            let selector = try resolveSelector(group, field: "groups", clientAllowed: false)
            if selector == .all {
                throw error(group.position, "a group of all members leaves nothing to partition from; name part of the cluster")
            }
            if case .hosts(let names) = selector {
                for name in names {
                    if let other = named[name] {
                        throw error(group.position, "'\(name)' is in group \(other + 1) and group \(number + 1); a host can be in one group")
                    }
                    named[name] = number
                }
            }
            groups.append(selector)
        }
        return groups
    }

    // MARK: - Timing

    func resolveDuration(_ spec: FaultSpec, kind: FaultKind, entry: SourcePosition?) throws(DocumentError) -> Nanoseconds? {
        guard !kind.isInstant else { return nil }
        guard let given = spec.duration else {
            throw error(spec.fault.position ?? entry, "\(kind) needs 'for': how long it lasts before it is healed, e.g. for: 10s")
        }
        guard given.value.nanoseconds > 0 else { throw error(given.position, "'for' must be more than 0") }
        return given.value.nanoseconds
    }

    func resolveTiming(_ spec: FaultSpec, duration: Nanoseconds?, workloadDuration: Nanoseconds, entry: SourcePosition?)
        throws(DocumentError) -> FaultTiming
    {
        guard let every = spec.every else {
            if let until = spec.until { throw error(until.position, "'until' bounds a periodic fault; add 'every:' or remove it") }
            if let overlap = spec.overlap { throw error(overlap.position, "'overlap' is for periodic faults; add 'every:' or remove it") }
            guard let at = spec.at else {
                throw error(spec.fault.position ?? entry, "say when: 'at: 5s' fires once, 'every: 8s' repeats (from 'at', until 'until')")
            }
            return .once(at: at.value.nanoseconds)
        }
        guard every.value.nanoseconds > 0 else { throw error(every.position, "'every' must be more than 0") }
        let first = spec.at?.value.nanoseconds ?? every.value.nanoseconds
        let until = spec.until?.value.nanoseconds ?? workloadDuration
        guard first < until else {
            throw error(spec.until?.position ?? spec.at?.position ?? every.position,
                "the first firing (\(Time.describe(first))) is not before 'until' (\(Time.describe(until))), so the fault never fires")
        }
        if let duration, duration > every.value.nanoseconds, spec.overlap?.value != true {
            throw error(spec.duration?.position,
                "each firing lasts \(Time.describe(duration)), longer than the period (\(Time.describe(every.value.nanoseconds))), so firings would overlap; shorten 'for', lengthen 'every', or set 'overlap: true'")
        }
        return .periodic(first: first, every: every.value.nanoseconds, until: until)
    }

    /// Every firing must start, and be healed, before the workload ends, so the checks see the
    /// cluster after its faults.
    func checkFitsWorkload(_ fault: Fault, _ spec: FaultSpec, workloadDuration: Nanoseconds) throws(DocumentError) {
        for occurrence in fault.occurrences {
            let end = occurrence.end ?? occurrence.start
            let late = occurrence.end.map { $0 > workloadDuration } ?? (occurrence.start >= workloadDuration)
            guard late else { continue }
            let when = occurrence.end == nil ? "fires" : "is healed"
            let number = fault.occurrences.count > 1 ? "firing \(occurrence.number + 1) of this fault" : "this fault"
            throw error(spec.duration?.position ?? spec.until?.position ?? spec.at?.position ?? spec.fault.position,
                "\(number) \(when) at \(Time.describe(end)), after the workload ends at \(Time.describe(workloadDuration)); every fault must be over before the end, so the checks see the cluster recover")
        }
    }
}

extension Selector {
    /// Whether this names exactly one host.
    var isSingleName: Bool {
        if case .hosts(let names) = self { return names.count == 1 }
        return false
    }
}
