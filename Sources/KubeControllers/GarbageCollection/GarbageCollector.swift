//! The garbage collector (kube-controller-manager's `pkg/controller/garbagecollector`), as a
//! pure core over the shell's caches:
//!
//! - An object whose owners are all gone is deleted (background, or the policy its own
//!   finalizers ask for); one with a live owner stays, its references to gone owners removed.
//! - Foreground: an owner marked for deletion with finalizer `foregroundDeletion` has its
//!   dependents deleted (those with dependents of their own in the foreground too), and once no
//!   dependent with `blockOwnerDeletion` is left, the finalizer is removed, which lets the
//!   apiserver delete the owner.
//! - Orphan: an owner marked with finalizer `orphan` has the references to it removed from its
//!   dependents, then the finalizer.
//!
//! The shell calls `sync` after every change of the cached objects and at the pass's `resyncAt`;
//! what the collector remembers between passes (`CollectorMemory.swift`) keeps it from asking
//! for the same write over and over, and from taking an owner its caches have not caught up with
//! for gone.

import Base
import KubeAPI
import Wire

public struct GarbageCollector: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How long an owner this collector never saw disappear must stay missing from the
        /// caches before its dependents are collected. Kubernetes reads the owner from the
        /// apiserver instead; this wait covers a cache that lags another (a new pod seen before
        /// its new ReplicaSet). An owner seen and then deleted counts as gone at once.
        public var absentOwnerConfirmation: Nanoseconds
        /// The first wait before a write that has not shown its effect is asked for again; it
        /// doubles with each attempt up to `retryDelayMax` (1000 s, Kubernetes' requeue limit).
        public var retryDelayMin: Nanoseconds
        public var retryDelayMax: Nanoseconds
        /// The most writes awaiting their effect; more wait for a later pass.
        public var pendingWritesMax: Int
        /// The most missing owners remembered (Kubernetes' absent-owner cache holds 500).
        public var absentOwnersMax: Int

        public init(absentOwnerConfirmation: Nanoseconds = 10 * 1_000_000_000, retryDelayMin: Nanoseconds = 1_000_000_000,
            retryDelayMax: Nanoseconds = 1000 * 1_000_000_000, pendingWritesMax: Int = 10_000, absentOwnersMax: Int = 10_000)
        {
            self.absentOwnerConfirmation = absentOwnerConfirmation
            self.retryDelayMin = retryDelayMin
            self.retryDelayMax = retryDelayMax
            self.pendingWritesMax = pendingWritesMax
            self.absentOwnersMax = absentOwnersMax
        }
    }

    /// What one pass asks for.
    public struct Pass: Sendable, Equatable {
        /// The writes to send, in order.
        public var actions: [ObjectAction]
        /// When to call `sync` again even if nothing changes (a retry or an owner's absence
        /// becoming certain); nil when nothing waits.
        public var resyncAt: Nanoseconds?

        public init(actions: [ObjectAction], resyncAt: Nanoseconds?) {
            self.actions = actions
            self.resyncAt = resyncAt
        }
    }

    public let configuration: Configuration
    private var pending: PendingWrites
    private var absence: OwnerAbsence

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        pending = PendingWrites(capacity: configuration.pendingWritesMax, retryDelayMin: configuration.retryDelayMin,
            retryDelayMax: configuration.retryDelayMax)
        absence = OwnerAbsence(capacity: configuration.absentOwnersMax, confirmation: configuration.absentOwnerConfirmation)
    }

    /// One pass over the cached objects, by resource. Pass every resource whose objects may own
    /// or be owned (Deployments, ReplicaSets, Pods, ...), and only once its cache has synced: an
    /// owner of a kind not passed is never taken for gone, and objects of kinds not passed are
    /// never collected. `now` is monotonic time.
    public mutating func sync(objects: [APIResource: [JSONValue]], now: Nanoseconds) -> Pass {
        let graph = OwnerGraph(objects: objects)
        absence.begin(graph)
        var plan = WritePlan()
        for uid in graph.order {
            let node = graph.nodes[uid]!
            if node.deleting {
                planOwnerFinalization(node, graph: graph, plan: &plan)
            } else if !node.owners.isEmpty {
                planDependent(node, graph: graph, now: now, plan: &plan)
            }
        }
        let writes = plan.writes(graph: graph)
        // Writes no longer wanted took effect (or are wrong now): forgotten before new ones claim room.
        pending.retain(Set(writes.map(\.key)))
        var actions: [ObjectAction] = []
        var deferred = false
        for write in writes {
            if pending.claim(write.key, now: now) {
                actions.append(contentsOf: write.actions)
            } else if pending.entries[write.key] == nil {
                deferred = true
            }
        }
        let confirmations = absence.end(now: now)
        let due = [pending.earliestDue, confirmations, deferred ? now + configuration.retryDelayMin : nil].compactMap { $0 }.min()
        return Pass(actions: actions, resyncAt: due)
    }

    // MARK: - Owners being deleted

    /// An owner marked for deletion: orphan its dependents, or wait for the blocking ones to go;
    /// then remove the finalizer.
    private func planOwnerFinalization(_ owner: GraphNode, graph: OwnerGraph, plan: inout WritePlan) {
        let dependents = graph.dependents[owner.uid] ?? []
        if owner.orphaningDependents {
            for dependent in dependents { plan.removeReferences(from: dependent, to: [owner.uid]) }
            if dependents.isEmpty { plan.removeFinalizer(ObjectLifecycle.orphanFinalizer, from: owner.uid) }
            // Orphaning comes first; a foreground finalizer as well finds no dependents after it.
            return
        }
        guard owner.deletingDependents else { return }
        // The dependents themselves are collected by `planDependent`, which finds this owner waiting.
        let blocking = dependents.filter { uid in
            graph.nodes[uid]!.owners.contains { $0.uid == owner.uid && $0.blocksOwnerDeletion }
        }
        if blocking.isEmpty { plan.removeFinalizer(ObjectLifecycle.foregroundDeletionFinalizer, from: owner.uid) }
    }

    // MARK: - Dependents

    /// A dependent not being deleted: Kubernetes' `attemptToDeleteItem`. Its owner references are
    /// solid (the owner lives), dangling (gone) or waiting (the owner deletes in the foreground).
    private mutating func planDependent(_ dependent: GraphNode, graph: OwnerGraph, now: Nanoseconds, plan: inout WritePlan) {
        var solid = 0
        var dangling: [String] = []
        var waiting: [String] = []
        var undecided = false
        for link in dependent.owners {
            switch graph.state(of: link, from: dependent) {
            case .solid, .unknown: solid += 1
            case .waitingForDependents: waiting.append(link.uid)
            case .absent:
                if absence.isGone(link.uid, now: now) { dangling.append(link.uid) } else { undecided = true }
            }
        }
        // An owner that may yet show up in its cache: judge nothing until it does or counts as gone.
        if undecided { return }
        if solid > 0 {
            if !dangling.isEmpty || !waiting.isEmpty { plan.removeReferences(from: dependent.uid, to: dangling + waiting) }
            return
        }
        let blocksAnOwner = dependent.owners.contains { waiting.contains($0.uid) && $0.blocksOwnerDeletion }
        let ownDependents = graph.dependents[dependent.uid] ?? []
        if !waiting.isEmpty && !ownDependents.isEmpty {
            // Deleted in the foreground in turn. A dependent of its own also deleting in the
            // foreground may be a cycle: stop blocking the owners first, as Kubernetes does.
            if ownDependents.contains(where: { graph.nodes[$0]!.deletingDependents }) { plan.unblockOwners(of: dependent.uid) }
            plan.delete(dependent.uid, propagation: .foreground, blocksAnOwner: blocksAnOwner)
            return
        }
        let propagation: PropagationPolicy
        if dependent.finalizers.contains(ObjectLifecycle.orphanFinalizer) {
            propagation = .orphan
        } else if dependent.finalizers.contains(ObjectLifecycle.foregroundDeletionFinalizer) {
            propagation = .foreground
        } else {
            propagation = .background
        }
        plan.delete(dependent.uid, propagation: propagation, blocksAnOwner: blocksAnOwner)
    }
}
