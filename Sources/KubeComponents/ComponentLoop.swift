//! KubeComponents: the control-plane daemons as shells around the pure cores — the scheduler
//! (`KubeScheduling`), the controller-manager (`KubeControllers`) and hollow kubelets
//! (`KubeNode`). Each watches the apiservers through informers (`KubeClient`), hands what it
//! sees to its core, and sends the `ObjectAction`s the core answers with.
//!
//! This file: the loop every daemon runs — a thread that sleeps until it is poked (an informer
//! saw a change) or its next deadline comes, then does one pass.

import Base
import Foundation
import KubeAPI
import KubeClient
import Net
import Synchronization
import Wire

/// A thread that runs `pass` whenever it is poked or its deadline comes. `pass` returns when it
/// next wants to run without a poke (nil: only when poked), as a monotonic time.
final class ComponentLoop: @unchecked Sendable {
    // `poked` and `stopped` are guarded by `condition`.
    private let condition = NSCondition()
    private var poked = false
    private var stopped = false
    private let name: String

    init(name: String) { self.name = name }

    /// Asks for a pass soon (many pokes before the pass starts make one pass).
    func poke() {
        condition.lock()
        poked = true
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Starts the thread. `idleWait` bounds every sleep, so a lost deadline costs at most that.
    func start(idleWait: Nanoseconds = Time.second, _ pass: @escaping @Sendable (_ now: Nanoseconds) -> Nanoseconds?) {
        let thread = Thread { [self] in
            var next: Nanoseconds? = nil
            while true {
                condition.lock()
                let start = MonotonicClock.now()
                let deadline = min(next ?? (start + idleWait), start + idleWait)
                while !poked && !stopped {
                    let now = MonotonicClock.now()
                    guard now < deadline else { break }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
                }
                poked = false
                let stop = stopped
                condition.unlock()
                if stop { return }
                next = pass(MonotonicClock.now())
            }
        }
        thread.name = name
        thread.start()
    }
}

/// Sends a core's actions through the client, logging what fails. A 409 Conflict or 404 is
/// expected now and then (the cache was a moment behind); the next pass works from fresher data.
struct ActionSender: Sendable {
    let client: APIClient
    let log: @Sendable (String) -> Void

    /// Sends `action`; true when the apiserver accepted it.
    @discardableResult
    func send(_ action: ObjectAction) -> Bool {
        do {
            try client.perform(action)
            return true
        } catch {
            if error.isConflict || error.isNotFound || error.isAlreadyExists {
                log("\(Self.describe(action)): \(error.message) (will retry from fresher state)")
            } else {
                log("\(Self.describe(action)) failed: \(error)")
            }
            return false
        }
    }

    /// Sends every action in order; stops at the first failure when `stopOnFailure`.
    func send(_ actions: [ObjectAction], stopOnFailure: Bool = false) {
        for action in actions where !send(action) && stopOnFailure {
            if case .event = action { continue }
            return
        }
    }

    static func describe(_ action: ObjectAction) -> String {
        switch action {
        case .create(let resource, let namespace, let object):
            return "create \(resource.plural) \(namespace.map { "\($0)/" } ?? "")\(object.stringMember("metadata", "name") ?? object.stringMember("metadata", "generateName") ?? "")"
        case .update(let reference, _, let subresource): return "update \(reference)\(subresource.map { "/\($0)" } ?? "")"
        case .mergePatch(let reference, _, let subresource): return "patch \(reference)\(subresource.map { "/\($0)" } ?? "")"
        case .delete(let reference, _, _, _): return "delete \(reference)"
        case .bind(let pod, let node, _): return "bind \(pod) to \(node)"
        case .event(let involved, _, let reason, _): return "event \(reason) on \(involved)"
        }
    }
}

/// Settings every component shares: which apiservers, and how to log.
public struct ComponentSettings: Sendable {
    public var apiservers: [String]
    public var log: @Sendable (String) -> Void
    /// Leader election: on by default for the scheduler and controller-manager, as in Kubernetes.
    public var leaderElect = true
    public var leaderElection = LeaderElectionTiming()
    /// This process's identity in leader election (client-go: hostname_uuid).
    public var identity: String

    public init(apiservers: [String], identity: String, log: @escaping @Sendable (String) -> Void) {
        self.apiservers = apiservers
        self.identity = identity
        self.log = log
    }
}

/// The component's Lease in kube-system, campaigned for with the settings' identity and timing.
func electorConfiguration(name: String, _ settings: ComponentSettings) -> LeaderElectorConfiguration {
    var configuration = LeaderElectorConfiguration(name: name, identity: settings.identity, timing: settings.leaderElection)
    configuration.log = settings.log
    return configuration
}
