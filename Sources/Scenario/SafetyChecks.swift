//! SafetyChecks: the properties that must hold whatever the faults — at most one leader per
//! term, no acknowledged insert lost (and none appearing from nowhere), members converged after
//! recovery, and no write acknowledged while no quorum was connected.

import Base
import Linearizability

/// One poll of one member's status.
public struct LeadershipObservation: Sendable, Equatable {
    public var member: String
    public var time: Nanoseconds
    public var term: UInt64
    /// The leader the member reported for `term`, if any.
    public var leader: String?
    /// Whether the member said it is the leader itself.
    public var isLeader: Bool

    public init(member: String, time: Nanoseconds, term: UInt64, leader: String?, isLeader: Bool) {
        self.member = member
        self.time = time
        self.term = term
        self.leader = leader
        self.isLeader = isLeader
    }
}

/// An insert (a put of a fresh key) and when its outcome was known.
public struct InsertRecord: Sendable, Equatable {
    public var key: String
    public var time: Nanoseconds

    public init(key: String, time: Nanoseconds) {
        self.key = key
        self.time = time
    }
}

/// What one member answered after the run, once the cluster was healed.
public struct MemberState: Sendable, Equatable {
    public var name: String
    public var answered: Bool
    public var revision: Int64
    /// The hash of the member's key-value store at `revision` (etcd's HashKV).
    public var hash: UInt64

    public init(name: String, answered: Bool, revision: Int64 = 0, hash: UInt64 = 0) {
        self.name = name
        self.answered = answered
        self.revision = revision
        self.hash = hash
    }
}

extension Checks {
    // MARK: - Election safety

    /// Raft's election safety: at most one leader per term. Fails when two members are named
    /// leader of one term (by themselves or by others) at overlapping times: each leader's span
    /// runs from the first to the last observation naming it for that term.
    ///
    /// Overlap, not mere co-occurrence, because polled status is not atomic in real etcd: its
    /// `raftTerm` is the term of the last *applied* entry while `leader` is the current one, so
    /// just after an election a member may name the new leader with the old term. Such a stale
    /// label comes after the old leader's span; two leaders of one term at once do not.
    public static func electionSafety(observations: [LeadershipObservation]) -> CheckResult {
        let name = "election-safety"
        guard !observations.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: "no member status was observed") }
        // term -> leader -> (the first observation naming it, the last time it was named)
        var leaders: [UInt64: [String: (first: LeadershipObservation, last: Nanoseconds)]] = [:]
        for observation in observations.sorted(by: { ($0.time, $0.member) < ($1.time, $1.member) }) {
            let claimed = observation.isLeader ? observation.member : observation.leader
            guard let claimed else { continue }
            if let seen = leaders[observation.term]?[claimed] {
                leaders[observation.term]![claimed] = (seen.first, observation.time)
            } else {
                leaders[observation.term, default: [:]][claimed] = (observation, observation.time)
            }
        }
        var details: [CheckDetail] = []
        for term in leaders.keys.sorted() {
            guard let named = leaders[term], named.count > 1 else { continue }
            let spans = named.sorted { $0.value.first.time < $1.value.first.time }
            var overlapping: Set<String> = []
            for (index, a) in spans.enumerated() {
                for b in spans[(index + 1)...] where b.value.first.time <= a.value.last && a.value.first.time <= b.value.last {
                    overlapping.formUnion([a.key, b.key])
                }
            }
            guard overlapping.count > 1 else { continue }
            let witnesses = overlapping.sorted().map { leader -> String in
                guard let seen = named[leader] else { return leader }
                let how = seen.first.isLeader && seen.first.member == leader ? "claimed by itself" : "reported by \(seen.first.member)"
                return "\(leader) (\(how) at \(Time.describe(seen.first.time)), last named at \(Time.describe(seen.last)))"
            }
            let first = overlapping.compactMap { named[$0]?.first.time }.min()
            details.append(CheckDetail(time: first, "term \(term) has \(overlapping.count) leaders at once: " + witnesses.joined(separator: ", ")))
        }
        let terms = count(leaders.count, "term")
        guard details.isEmpty else {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(details.count, "term")) had more than one leader at once", details: details)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "one leader per term over \(terms) (\(count(observations.count, "observation")))")
    }

    // MARK: - No lost writes

    /// Every acknowledged insert must be in the final read; a key there that no insert wrote
    /// (a phantom), or one whose insert definitely failed, is a fail too. Indefinite inserts may
    /// be present or absent. `finalKeys` is nil when the final read did not succeed.
    public static func noLostWrites(acknowledged: [InsertRecord], indefinite: [InsertRecord], failed: [InsertRecord] = [],
        finalKeys: Set<String>?) -> CheckResult
    {
        let name = "no-lost-writes"
        guard let finalKeys else {
            return CheckResult(name: name, verdict: .unknown, summary: "the final read did not succeed, so nothing can be compared")
        }
        var details: [CheckDetail] = []
        let lost = acknowledged.filter { !finalKeys.contains($0.key) }
        details += lost.map { CheckDetail(time: $0.time, "insert \($0.key) was acknowledged but is missing from the final read") }
        let liars = failed.filter { finalKeys.contains($0.key) }
        details += liars.map { CheckDetail(time: $0.time, "insert \($0.key) failed (certainly not applied) but is in the final read") }
        let attempted = Set((acknowledged + indefinite + failed).map(\.key))
        let phantoms = finalKeys.subtracting(attempted).sorted()
        details += phantoms.map { CheckDetail("key \($0) is in the final read but no insert ever wrote it") }
        guard details.isEmpty else {
            var problems: [String] = []
            if !lost.isEmpty { problems.append("\(lost.count) of \(count(acknowledged.count, "acknowledged insert")) lost") }
            if !liars.isEmpty { problems.append("\(count(liars.count, "failed insert")) present") }
            if !phantoms.isEmpty { problems.append("\(count(phantoms.count, "phantom key"))") }
            return CheckResult(name: name, verdict: .fail, summary: problems.joined(separator: ", "), details: details)
        }
        let landed = indefinite.filter { finalKeys.contains($0.key) }.count
        return CheckResult(name: name, verdict: .pass,
            summary: "all \(count(acknowledged.count, "acknowledged insert")) present; \(landed) of \(indefinite.count) indefinite took effect")
    }

    // MARK: - Recovery

    /// After the faults are healed every member answers, at the same revision with the same hash.
    public static func recovery(members: [MemberState]) -> CheckResult {
        let name = "recovery"
        guard !members.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: "no member was asked") }
        var details = members.filter { !$0.answered }.map { CheckDetail("\($0.name) did not answer") }
        let answering = members.filter(\.answered)
        let states = Set(answering.map { "\($0.revision)/\($0.hash)" })
        if states.count > 1 {
            details += answering.map { CheckDetail("\($0.name) is at revision \($0.revision) with hash \(String($0.hash, radix: 16))") }
        }
        guard details.isEmpty else {
            let silent = members.count - answering.count
            let summary = silent > 0 && states.count <= 1
                ? "\(count(silent, "member")) did not answer"
                : "the members did not converge (\(states.count) different states\(silent > 0 ? ", \(silent) silent" : ""))"
            return CheckResult(name: name, verdict: .fail, summary: summary, details: details)
        }
        let first = answering[0]
        return CheckResult(name: name, verdict: .pass,
            summary: "all \(count(members.count, "member")) at revision \(first.revision), hash \(String(first.hash, radix: 16))")
    }

    // MARK: - No minority writes

    /// Nothing commits without a quorum: no write, cas or delete may complete `ok` inside a
    /// window when no quorum was connected, if it was invoked after the window's start plus
    /// `grace` (an earlier one may have committed before the window and been acknowledged late).
    /// One that completes after the window is legal: the restored quorum may commit it.
    ///
    /// `windows` are when no member had a quorum. `hostWindows` are when one member had none
    /// (it was on the minority side of a partition, or isolated); they apply to the operations
    /// `nodes` says went to that member (by `Operation.index`), so a write the minority side
    /// acknowledged is caught even while the majority side carried on.
    public static func noMinorityWrites(operations: [Operation], windows: [TimeWindow], hostWindows: [String: [TimeWindow]] = [:],
        nodes: [Int: String] = [:], grace: Nanoseconds) -> CheckResult
    {
        let name = "no-minority-writes"
        let sideWindows = hostWindows.values.reduce(0) { $0 + $1.count }
        guard !windows.isEmpty || sideWindows > 0 else {
            return CheckResult(name: name, verdict: .unknown, summary: "the run had no window without a quorum")
        }
        func inside(_ operation: Operation, _ candidates: [TimeWindow]) -> TimeWindow? {
            candidates.first { operation.invokeTime > $0.start + grace && operation.invokeTime < $0.end }
        }
        var details: [CheckDetail] = []
        var checked = 0
        for operation in operations where operation.f != .read {
            let node = nodes[operation.index]
            let side = node.flatMap { hostWindows[$0] }.flatMap { inside(operation, $0) }
            guard let window = inside(operation, windows) ?? side else { continue }
            checked += 1
            guard operation.outcome == .ok, operation.completionTime < window.end else { continue }
            let through = side != nil && inside(operation, windows) == nil ? " through \(node!), cut off from a quorum" : " without a quorum"
            details.append(CheckDetail(time: operation.completionTime,
                "\(operation.f.rawValue) \(operation.key) invoked at \(Time.describe(operation.invokeTime)) succeeded\(through) (window \(Time.describe(window.start))–\(Time.describe(window.end)))"))
        }
        guard details.isEmpty else {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(details.count, "write")) succeeded without a quorum", details: details)
        }
        var scope = windows.isEmpty ? [] : [count(windows.count, "window") + " without a quorum"]
        if sideWindows > 0 { scope.append(count(sideWindows, "window") + " of a member cut off from one") }
        return CheckResult(name: name, verdict: .pass,
            summary: "none of the \(count(checked, "write")) invoked in \(scope.joined(separator: " or ")) succeeded there")
    }
}
