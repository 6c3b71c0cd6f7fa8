//! FaultAction: what the nemesis planner tells the runner to do — one fault proxy rule, one
//! signal to one process, one clock change, or a heal — with host names resolved and a tag that
//! says which firing it belongs to, so the runner can undo exactly what it applied.

import Base

/// One concrete thing for the runner to do. Network actions map one-to-one onto the fault
/// proxy's rules (target Faults) and `faultline fault` verbs; the runner records the proxy's rule
/// ids under the action's tag, and `heal(tag:)` removes them all.
public enum FaultAction: Sendable, Equatable, CustomStringConvertible {
    /// Hosts in different groups cannot talk, both ways. Hosts in no group, the client
    /// namespace included, form one more group together.
    case partition(groups: [[String]], mode: LinkMode)
    /// `host` can talk to no other host (nor the client with `includeClient`).
    case isolate(host: String, mode: LinkMode, includeClient: Bool)
    /// Bytes from `from` to `to` stop; the other direction still flows.
    case cut(from: String, to: String, mode: LinkMode)
    case latency(from: String, to: String, delay: Nanoseconds, jitter: Nanoseconds)
    case bandwidth(from: String, to: String, bytesPerSecond: Int64)
    /// Reset the open connections `from` dialled to `to`, once.
    case reset(from: String, to: String)
    /// SIGKILL.
    case kill(host: String)
    /// SIGTERM.
    case terminate(host: String)
    /// SIGSTOP.
    case pause(host: String)
    /// SIGCONT.
    case resume(host: String)
    /// Start the host's process again (stopping it first if it runs), with an empty data
    /// directory when `wipe`.
    case restart(host: String, wipe: Bool)
    /// Move the host's clock by `offset` and make it run at `rate`; (0, 1) puts it back.
    case skew(host: String, offset: Nanoseconds, rate: Double)
    /// Remove every proxy rule applied under `tag`.
    case heal(tag: String)
    /// Remove every proxy rule.
    case healAll

    public var description: String {
        switch self {
        case .partition(let groups, let mode):
            return "partition " + groups.map { $0.joined(separator: ",") }.joined(separator: " | ") + " (\(mode))"
        case .isolate(let host, let mode, let includeClient):
            return "isolate \(host) (\(mode)\(includeClient ? ", include-client" : ""))"
        case .cut(let from, let to, let mode): return "cut \(from) -> \(to) (\(mode))"
        case .latency(let from, let to, let delay, let jitter):
            return "latency \(from) -> \(to) \(Time.describe(delay)) ± \(Time.describe(jitter))"
        case .bandwidth(let from, let to, let rate): return "bandwidth \(from) -> \(to) \(rate) B/s"
        case .reset(let from, let to): return "reset \(from) -> \(to)"
        case .kill(let host): return "kill \(host)"
        case .terminate(let host): return "terminate \(host)"
        case .pause(let host): return "pause \(host)"
        case .resume(let host): return "resume \(host)"
        case .restart(let host, let wipe): return "restart \(host)\(wipe ? " (wipe)" : "")"
        case .skew(let host, let offset, let rate):
            let sign = offset < 0 ? "-" : "+"
            return "skew \(host) \(sign)\(Time.describe(abs(offset))) rate \(rate)"
        case .heal(let tag): return "heal \(tag)"
        case .healAll: return "heal all"
        }
    }
}

/// A fault action with when it was due and why.
public struct PlannedAction: Sendable, Equatable, CustomStringConvertible {
    public enum Purpose: String, Sendable {
        /// Breaks something.
        case inject
        /// Undoes an injection when its `for` has passed.
        case undo
        /// Undoes what is left at the end of the run.
        case rollback
    }

    /// When it was due, from the start of the workload (the runner applies it when it gets it).
    public var time: Nanoseconds
    /// The firing it belongs to (`f1.2`, or `f3.1.4` for a step of a swizzle), `rollback` at the end.
    public var tag: String
    public var purpose: Purpose
    public var action: FaultAction

    public init(time: Nanoseconds, tag: String, purpose: Purpose, action: FaultAction) {
        self.time = time
        self.tag = tag
        self.purpose = purpose
        self.action = action
    }

    /// `5s f1.1 inject isolate etcd-2 (blackhole)`.
    public var description: String { "\(Time.describe(time)) \(tag) \(purpose.rawValue) \(action)" }
}

/// A firing the planner gave up on, and why (no leader known before its window closed, or the
/// runner asked too late).
public struct SkippedFiring: Sendable, Equatable, CustomStringConvertible {
    public var tag: String
    public var scheduled: Nanoseconds
    public var reason: String

    public var description: String { "\(Time.describe(scheduled)) \(tag) skipped: \(reason)" }
}

/// A firing that is applied and not undone yet.
public struct ActiveFault: Sendable, Equatable {
    public var tag: String
    public var kind: FaultKind
    /// The hosts it hit, in member order.
    public var hosts: [String]
    public var since: Nanoseconds
    /// When its undo is due.
    public var until: Nanoseconds

    public init(tag: String, kind: FaultKind, hosts: [String], since: Nanoseconds, until: Nanoseconds) {
        self.tag = tag
        self.kind = kind
        self.hosts = hosts
        self.since = since
        self.until = until
    }
}

/// What `NemesisPlanner.due` returns: the actions to apply now, in order, and the firings it
/// gave up on (for the trace).
public struct NemesisTick: Sendable, Equatable {
    public var actions: [PlannedAction] = []
    public var skipped: [SkippedFiring] = []

    public init(actions: [PlannedAction] = [], skipped: [SkippedFiring] = []) {
        self.actions = actions
        self.skipped = skipped
    }
}
