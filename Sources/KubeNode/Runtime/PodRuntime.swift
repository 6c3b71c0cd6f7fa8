//! The kubelet's pod runtime as a pure core: given the pods bound to its node and what became
//! of the containers it asked for, it decides what to start, signal and probe, and what to
//! tell the apiserver — with the real kubelet's restart back-off, image-pull back-off, probe
//! thresholds, phases, conditions and graceful deletion. No I/O, no clock, no threads: the
//! shell passes `now` (monotonic) and `wallNow` (epoch seconds, for the timestamps in status)
//! into every call and carries out the directives it gets back, in order.
//!
//! Level-triggered like HollowPods: `sync` is given every pod of the kubelet's cache; the
//! events (`containerStarted`, `containerExited`, `probeFinished`, …) move one container on;
//! `tick` runs the timers (`nextWakeup` says when). Pods are visited in uid order and
//! containers in spec order, so the same inputs always give the same directives.
//!
//! Not modelled: init containers (a pod's `initContainers` are not run and it counts as
//! initialized), changes to a running pod's spec (read once, when the pod is first seen),
//! grpc probes (left out, as if absent), lifecycle hooks, events, and volumes.

import Base
import KubeAPI
import Wire

public struct PodRuntime: Sendable {
    public let node: String
    public let hostIP: String
    public let settings: PodRuntimeSettings
    private var addresses: PodAddresses
    /// uid → the pod. Pods leave once gone from the cache and their containers have exited.
    private var records: [String: PodRecord] = [:]
    /// Bumped whenever a pod's address is freed, so pods waiting for one are tried again.
    private var addressReleases = 0

    /// Probes run in this order when several are due at once.
    static let probeOrder: [ProbeKind] = [.startup, .liveness, .readiness]

    public init(node: String, hostIP: String, podCIDR: String?, settings: PodRuntimeSettings = .init()) {
        self.node = node
        self.hostIP = hostIP
        self.settings = settings
        addresses = PodAddresses(hostIP: hostIP, podCIDR: podCIDR)
    }

    /// How many pod addresses are in use.
    public var addressesInUse: Int { addresses.inUse }
    /// How many pods the runtime tracks (including ones still being stopped or deleted).
    public var podsTracked: Int { records.count }

    // MARK: Events

    /// Level-triggered: every pod bound to this node as the kubelet's cache holds it.
    public mutating func sync(pods: [JSONValue], now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        var current: [String: JSONValue] = [:]
        for pod in pods where pod.stringMember("spec", "nodeName") == node {
            guard let uid = pod.stringMember("metadata", "uid"), !uid.isEmpty, current[uid] == nil else { continue }
            current[uid] = pod
        }
        for uid in current.keys.sorted() {
            guard let pod = current[uid] else { continue }
            if records[uid] == nil {
                admit(pod, wallNow: wallNow)
            } else {
                records[uid]?.apiserverCopy = pod
            }
            if pod.member("metadata", "deletionTimestamp") != nil { beginDeletion(uid, pod: pod, now: now) }
        }
        for uid in records.keys.sorted() where current[uid] == nil { markRemoved(uid, now: now) }
        return reconcileAll(now: now, wallNow: wallNow)
    }

    /// The shell started the container the last `start` directive for it asked for.
    public mutating func containerStarted(podUID: String, container: String, now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        guard var record = records[podUID], let index = record.containerIndex(container),
            record.containers[index].phase == .starting
        else { return [] }
        beginRunning(&record.containers[index], podUID: podUID, now: now, wallNow: wallNow)
        records[podUID] = record
        return reconcileAfterEvent(podUID, now: now, wallNow: wallNow)
    }

    /// The shell could not start the container (`message` says why): a run that ended at once,
    /// as a container runtime's StartError (exit code 128), restarted per the policy.
    public mutating func containerStartFailed(podUID: String, container: String, message: String, now: Nanoseconds, wallNow: Int64)
        -> [RuntimeDirective]
    {
        guard var record = records[podUID], let index = record.containerIndex(container),
            record.containers[index].phase == .starting
        else { return [] }
        record.containers[index].beginRun(podUID: podUID)
        let termination = Termination(exitCode: 128, reason: "StartError", message: Self.bounded(message), startedAt: 0,
            finishedAt: wallNow, containerID: record.containers[index].containerID ?? "")
        finishRun(&record, index, termination, now: now)
        records[podUID] = record
        return reconcileAfterEvent(podUID, now: now, wallNow: wallNow)
    }

    /// The container's process ended: with `exitCode`, or killed by `signal` (shown as exit
    /// code 128 + signal, as container runtimes report it).
    public mutating func containerExited(podUID: String, container: String, exitCode: Int32, signal: Int32?, now: Nanoseconds,
        wallNow: Int64) -> [RuntimeDirective]
    {
        guard var record = records[podUID], let index = record.containerIndex(container), record.containers[index].mayHaveProcess
        else { return [] }
        if record.containers[index].phase == .starting {
            // It ended before the shell reported it started: it did run, however briefly.
            beginRunning(&record.containers[index], podUID: podUID, now: now, wallNow: wallNow)
        }
        let code = signal.flatMap { (1...64).contains($0) ? 128 + $0 : nil } ?? exitCode
        let termination = Termination(exitCode: code, reason: code == 0 ? "Completed" : "Error", message: nil,
            startedAt: record.containers[index].runStartedWall, finishedAt: wallNow, containerID: record.containers[index].containerID ?? "")
        finishRun(&record, index, termination, now: now)
        records[podUID] = record
        return reconcileAfterEvent(podUID, now: now, wallNow: wallNow)
    }

    /// A probe directive's answer. `message` is for the shell's log; the status does not carry it.
    public mutating func probeFinished(podUID: String, container: String, kind: ProbeKind, success: Bool, message: String?,
        now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective]
    {
        guard var record = records[podUID], let index = record.containerIndex(container),
            let outstanding = record.containers[index].outstanding[kind]
        else { return [] }
        record.containers[index].outstanding[kind] = nil
        // An answer about an earlier run, or a container being stopped, changes nothing.
        let current = record.containers[index]
        if outstanding.run == current.runs - 1, current.isRunning, current.stop == nil, record.lifecycle == .active {
            applyProbeResult(&record.containers[index], kind, success: success, issuedAt: outstanding.issuedAt, now: now,
                podGrace: record.spec.terminationGrace)
        }
        records[podUID] = record
        return reconcileAfterEvent(podUID, now: now, wallNow: wallNow)
    }

    /// Timers: restarts and pull retries whose back-off ran out, probes due, SIGKILLs at the end
    /// of a grace period, status reports and deletes to send again.
    public mutating func tick(now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        reconcileAll(now: now, wallNow: wallNow)
    }

    /// The earliest instant a timer is due (possibly already past), so the shell can sleep until
    /// then and call `tick`; nil when nothing is pending.
    public var nextWakeup: Nanoseconds? {
        var earliest: Nanoseconds?
        func consider(_ instant: Nanoseconds?) {
            if let instant { earliest = min(earliest ?? instant, instant) }
        }
        for record in records.values {
            if record.reportsStatus, let last = record.lastReport, !record.lastReportShown {
                switch record.lifecycle {
                case .active, .finished: consider(last.at + settings.statusRetryAfter)
                case .deleting, .removed: break
                }
            }
            for container in record.containers {
                if container.isRunning, let stop = container.stop, !stop.killSent { consider(stop.killAt) }
            }
            switch record.lifecycle {
            case .active:
                for container in record.containers {
                    if case .waiting = container.phase {
                        consider(container.pullBackOffShownAt)
                        if record.podIP != nil { consider(container.nextAttemptAt) }
                    }
                    if container.isRunning, container.stop == nil {
                        for (kind, probe) in container.probes where !probe.onHold && container.outstanding[kind] == nil {
                            consider(probe.nextDueAt)
                        }
                    }
                    for outstanding in container.outstanding.values {
                        consider(outstanding.issuedAt + outstanding.timeout + settings.probeAnswerSlack)
                    }
                }
            case .deleting:
                if !record.hasProcesses, let sent = record.deleteSentAt { consider(sent + settings.statusRetryAfter) }
            case .finished, .removed:
                break
            }
        }
        return earliest
    }

    // MARK: The pod's life

    private mutating func admit(_ pod: JSONValue, wallNow: Int64) {
        guard let spec = PodSpecModel(pod) else { return }
        // A kubelet that restarted keeps counting restarts where the apiserver's status left off.
        let earlier = pod.arrayMember("status", "containerStatuses")
        let containers = spec.containers.map { container -> ContainerRecord in
            let previous = earlier.first { $0.stringMember("name") == container.name }
            let restartCount = Int(min(max(0, previous?.intMember("restartCount") ?? 0), 1_000_000_000))
            let ran = previous.map {
                $0.member("state", "running") != nil || $0.member("state", "terminated") != nil || $0.member("lastState", "terminated") != nil
            } ?? false
            return ContainerRecord(spec: container, restartCount: restartCount, hasRun: ran || restartCount > 0)
        }
        var record = PodRecord(spec: spec, containers: containers, apiserverCopy: pod,
            startTime: pod.stringMember("status", "startTime").flatMap(KubeTime.parse) ?? wallNow)
        // Transition times carry over: PodScheduled keeps the scheduler's, a restarted kubelet its own.
        for condition in pod.arrayMember("status", "conditions") {
            guard let type = condition.stringMember("type"), let status = condition.stringMember("status"),
                let since = condition.stringMember("lastTransitionTime").flatMap(KubeTime.parse)
            else { continue }
            record.conditions[type] = ConditionMark(status: status, since: since)
        }
        let phase = pod.stringMember("status", "phase")
        if phase == "Succeeded" || phase == "Failed" {
            record.lifecycle = .finished
            record.reportsStatus = false
            record.addressReleased = true
        } else if let refusal = spec.admissionRefusal(containersMax: settings.containersPerPodMax) ?? podCapacityRefusal() {
            record.refusal = refusal
            record.lifecycle = .finished
            record.addressReleased = true
        } else if !spec.hostNetwork, let previousIP = pod.stringMember("status", "podIP") {
            addresses.adopt(spec.uid, address: previousIP)
        }
        records[spec.uid] = record
    }

    /// The kubelet's pod-count admission: pods running or stopping use the node's capacity.
    private func podCapacityRefusal() -> (reason: String, message: String)? {
        let used = records.values.filter { record in
            switch record.lifecycle {
            case .active, .deleting: record.refusal == nil
            case .finished, .removed: false
            }
        }.count
        guard used >= settings.podsMax else { return nil }
        return ("OutOfpods", "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: \(used), capacity: \(settings.podsMax)")
    }

    /// The apiserver set a deletionTimestamp: every container gets SIGTERM now and SIGKILL at
    /// the end of the pod's deletion grace period (a shorter one given later wins).
    private mutating func beginDeletion(_ uid: String, pod: JSONValue, now: Nanoseconds) {
        guard var record = records[uid] else { return }
        let grace = pod.intMember("metadata", "deletionGracePeriodSeconds").map(PodSpecModel.graceSeconds) ?? record.spec.terminationGrace
        let killAt = now + grace
        switch record.lifecycle {
        case .removed: return
        case .deleting(let existing):
            guard killAt < existing else { return }
        case .active, .finished: break
        }
        record.lifecycle = .deleting(killAt: killAt)
        for index in record.containers.indices where record.containers[index].mayHaveProcess {
            Self.requestStop(&record.containers[index], reason: .podDeleted, killAt: killAt)
        }
        records[uid] = record
    }

    /// The pod left the cache (force-deleted): its containers are killed at once.
    private mutating func markRemoved(_ uid: String, now: Nanoseconds) {
        guard var record = records[uid], record.lifecycle != .removed else { return }
        record.lifecycle = .removed
        for index in record.containers.indices where record.containers[index].mayHaveProcess {
            Self.requestStop(&record.containers[index], reason: .podRemoved, killAt: now)
        }
        records[uid] = record
    }

    private static func requestStop(_ container: inout ContainerRecord, reason: StopReason, killAt: Nanoseconds) {
        if var stop = container.stop {
            stop.reason = reason
            stop.killAt = min(stop.killAt, killAt)
            container.stop = stop
        } else {
            container.stop = StopRequest(reason: reason, killAt: killAt)
        }
    }

    private func beginRunning(_ container: inout ContainerRecord, podUID: String, now: Nanoseconds, wallNow: Int64) {
        container.beginRun(podUID: podUID)
        container.phase = .running
        container.runStartedWall = wallNow
        container.runStarted = now
        container.startupPassed = container.spec.startup == nil
        container.readinessPassed = false
        container.probes = [:]
        for kind in Self.probeOrder {
            guard let probe = container.spec.probe(kind) else { continue }
            // Liveness and readiness wait for the startup probe to pass.
            let gated = kind != .startup && !container.startupPassed
            container.probes[kind] = ProbeState(nextDueAt: gated ? nil : now + probe.initialDelay)
        }
    }

    /// A run ended: the container is terminated for good, or waits to restart — at once the
    /// first time, then after the back-off (CrashLoopBackOff).
    private func finishRun(_ record: inout PodRecord, _ index: Int, _ termination: Termination, now: Nanoseconds) {
        var container = record.containers[index]
        container.lastFinished = now
        container.stop = nil
        container.probes = [:]
        container.startupPassed = false
        container.readinessPassed = false
        let restarts = record.lifecycle == .active && record.spec.restartPolicy.restarts(exitCode: termination.exitCode)
        if !restarts {
            container.phase = .terminated(termination)
            container.nextAttemptAt = nil
        } else {
            container.lastTermination = termination
            if container.crashBackoff.isInBackOff(since: now, now: now, resetAfter: settings.backoffResetAfter),
                let delay = container.crashBackoff.delay
            {
                let spec = record.spec
                container.phase = .waiting(reason: "CrashLoopBackOff",
                    message: "back-off \(GoDuration.format(delay)) restarting failed container=\(container.spec.name) "
                        + "pod=\(spec.name)_\(spec.namespace)(\(spec.uid))")
                container.nextAttemptAt = now + delay
            } else {
                container.phase = .waiting(reason: "ContainerCreating", message: nil)
                container.nextAttemptAt = now
            }
        }
        record.containers[index] = container
    }

    /// The kubelet's probe worker: a result counts once it came `successThreshold` or
    /// `failureThreshold` times in a row.
    private func applyProbeResult(_ container: inout ContainerRecord, _ kind: ProbeKind, success: Bool, issuedAt: Nanoseconds,
        now: Nanoseconds, podGrace: Nanoseconds)
    {
        guard var probe = container.probes[kind], !probe.onHold, let spec = container.spec.probe(kind) else { return }
        if probe.lastResult == success {
            probe.resultRun = min(probe.resultRun + 1, 1_000_000)
        } else {
            probe.lastResult = success
            probe.resultRun = 1
        }
        probe.nextDueAt = issuedAt + spec.period
        if probe.resultRun >= (success ? spec.successThreshold : spec.failureThreshold) {
            switch (kind, success) {
            case (.readiness, _):
                container.readinessPassed = success
            case (.startup, true):
                container.startupPassed = true
                probe.nextDueAt = nil
                for gated in [ProbeKind.liveness, .readiness] {
                    guard let gatedSpec = container.spec.probe(gated) else { continue }
                    container.probes[gated]?.nextDueAt = max(now, container.runStarted + gatedSpec.initialDelay)
                }
            case (.liveness, true):
                break
            case (.startup, false), (.liveness, false):
                // The container is restarted (per the policy) after a stop with the grace period.
                probe.onHold = true
                probe.nextDueAt = nil
                Self.requestStop(&container, reason: kind == .startup ? .startupFailed : .livenessFailed,
                    killAt: now + (spec.terminationGrace ?? podGrace))
            }
        }
        container.probes[kind] = probe
    }

    // MARK: Reconciling

    private mutating func reconcileAll(now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        let releasesBefore = addressReleases
        var directives: [RuntimeDirective] = []
        for uid in records.keys.sorted() { directives += reconcile(uid, now: now, wallNow: wallNow) }
        if addressReleases != releasesBefore { directives += retryPodsWaitingForAddress(now: now, wallNow: wallNow) }
        return directives
    }

    private mutating func reconcileAfterEvent(_ uid: String, now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        let releasesBefore = addressReleases
        var directives = reconcile(uid, now: now, wallNow: wallNow)
        if addressReleases != releasesBefore { directives += retryPodsWaitingForAddress(now: now, wallNow: wallNow) }
        return directives
    }

    private mutating func retryPodsWaitingForAddress(now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        var directives: [RuntimeDirective] = []
        for uid in records.keys.sorted() {
            guard let record = records[uid], record.lifecycle == .active, record.podIP == nil else { continue }
            directives += reconcile(uid, now: now, wallNow: wallNow)
        }
        return directives
    }

    /// Everything due for one pod at `now`.
    private mutating func reconcile(_ uid: String, now: Nanoseconds, wallNow: Int64) -> [RuntimeDirective] {
        guard var record = records[uid] else { return [] }
        var directives: [RuntimeDirective] = []
        switch record.lifecycle {
        case .deleting, .removed:
            for index in record.containers.indices { sendStopSignals(&record.containers[index], podUID: uid, now: now, &directives) }
            guard !record.hasProcesses else { break }
            releaseAddress(&record, &directives)
            if record.lifecycle == .removed {
                records[uid] = nil
                return directives
            }
            // Finish the deletion the apiserver started: grace 0 with the uid, so a new pod of
            // the same name is left alone.
            if record.deleteSentAt.map({ now - $0 >= settings.statusRetryAfter }) ?? true {
                directives.append(.report(.delete(record.spec.reference, uid: uid, gracePeriodSeconds: 0)))
                record.deleteSentAt = now
            }
        case .active:
            ensureAddress(&record, &directives)
            for index in record.containers.indices { advance(&record, index, now: now, &directives) }
            let phase = record.phase
            if phase == "Succeeded" || phase == "Failed" { record.lifecycle = .finished }
            report(&record, now: now, wallNow: wallNow, &directives)
            if record.lifecycle == .finished { releaseAddress(&record, &directives) }
        case .finished:
            report(&record, now: now, wallNow: wallNow, &directives)
        }
        records[uid] = record
        return directives
    }

    private mutating func ensureAddress(_ record: inout PodRecord, _ directives: inout [RuntimeDirective]) {
        guard record.podIP == nil else { return }
        if record.spec.hostNetwork {
            record.podIP = hostIP
            return
        }
        // A full range leaves the pod ContainerCreating until an address is freed, as a failing
        // CNI ADD leaves a real pod without its sandbox.
        guard let address = addresses.allocate(record.spec.uid) else { return }
        record.podIP = address
        if !addresses.sharesHostAddress {
            directives.append(.addAddress(address))
            record.ownsAddress = true
        }
    }

    private mutating func releaseAddress(_ record: inout PodRecord, _ directives: inout [RuntimeDirective]) {
        guard !record.addressReleased else { return }
        record.addressReleased = true
        if record.ownsAddress, let address = record.podIP { directives.append(.removeAddress(address)) }
        record.ownsAddress = false
        if !record.spec.hostNetwork {
            addresses.release(record.spec.uid)
            addressReleases &+= 1
        }
    }

    /// One container of an active pod: pulls and starts that are due, ErrImagePull turning into
    /// ImagePullBackOff, probes that are due, and the signals of a stop.
    private func advance(_ record: inout PodRecord, _ index: Int, now: Nanoseconds, _ directives: inout [RuntimeDirective]) {
        var container = record.containers[index]
        let uid = record.spec.uid
        forgetLostProbes(&container, now: now)
        switch container.phase {
        case .waiting(let reason, _):
            if reason == "ErrImagePull", let shownAt = container.pullBackOffShownAt, now >= shownAt {
                container.phase = .waiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(container.spec.imageReference)\"")
                container.pullBackOffShownAt = nil
            }
            if let due = container.nextAttemptAt, now >= due, let podIP = record.podIP,
                let launch = attemptStart(&container, pod: record.spec, podIP: podIP, now: now)
            {
                directives.append(.start(launch))
            }
        case .running:
            if container.stop == nil, let podIP = record.podIP {
                issueDueProbes(&container, podUID: uid, podIP: podIP, podGrace: record.spec.terminationGrace, now: now, &directives)
            }
            sendStopSignals(&container, podUID: uid, now: now, &directives)
        case .starting, .terminated:
            break
        }
        record.containers[index] = container
    }

    /// Pulls (a built-in image always succeeds, any other fails with a back-off) and, when the
    /// image is there, the launch of the container's next run.
    private func attemptStart(_ container: inout ContainerRecord, pod: PodSpecModel, podIP: String, now: Nanoseconds) -> ContainerLaunch? {
        guard let image = container.spec.image else {
            container.pullBackoff.next(eventTime: now, now: now, initial: settings.imagePullBackoffInitial,
                maximum: settings.imagePullBackoffMax, resetAfter: 2 * settings.imagePullBackoffMax)
            let delay = container.pullBackoff.delay ?? settings.imagePullBackoffInitial
            container.phase = .waiting(reason: "ErrImagePull",
                message: "failed to pull image \"\(container.spec.imageReference)\": not a built-in Faultline image "
                    + "(known: \(BuiltinImage.knownImagesDescription))")
            container.nextAttemptAt = now + delay
            container.pullBackOffShownAt = settings.imagePullErrorShownFor < delay ? now + settings.imagePullErrorShownFor : nil
            return nil
        }
        container.pulled = true
        if let finished = container.lastFinished {
            // Every start after a run moves the back-off on (or resets it after a long run).
            container.crashBackoff.next(eventTime: finished, now: now, initial: settings.backoffInitial, maximum: settings.backoffMax,
                resetAfter: settings.backoffResetAfter)
        }
        container.phase = .starting
        container.nextAttemptAt = nil
        container.pullBackOffShownAt = nil
        return ContainerLaunch(podUID: pod.uid, namespace: pod.namespace, podName: pod.name, containerName: container.spec.name,
            image: image, imageReference: container.spec.imageReference, containerID: container.nextContainerID(podUID: pod.uid),
            command: container.spec.command, args: container.spec.args,
            env: pod.environment(of: container.spec, podIP: podIP, node: node, hostIP: hostIP), podIP: podIP, ports: container.spec.ports)
    }

    private func issueDueProbes(_ container: inout ContainerRecord, podUID: String, podIP: String, podGrace: Nanoseconds, now: Nanoseconds,
        _ directives: inout [RuntimeDirective])
    {
        for kind in Self.probeOrder {
            guard container.stop == nil, let probe = container.probes[kind], !probe.onHold, let due = probe.nextDueAt, now >= due,
                container.outstanding[kind] == nil, let spec = container.spec.probe(kind)
            else { continue }
            guard let action = container.spec.action(of: spec, podIP: podIP) else {
                // A port name the container does not declare: the probe fails without running.
                applyProbeResult(&container, kind, success: false, issuedAt: now, now: now, podGrace: podGrace)
                continue
            }
            container.probes[kind]?.nextDueAt = nil
            container.outstanding[kind] = OutstandingProbe(run: container.runs - 1, issuedAt: now, timeout: spec.timeout)
            directives.append(.probe(podUID: podUID, container: container.spec.name, kind, action, timeout: spec.timeout))
        }
    }

    /// A probe the shell never answered stops blocking the next one.
    private func forgetLostProbes(_ container: inout ContainerRecord, now: Nanoseconds) {
        for kind in Self.probeOrder {
            guard let outstanding = container.outstanding[kind],
                now >= outstanding.issuedAt + outstanding.timeout + settings.probeAnswerSlack
            else { continue }
            container.outstanding[kind] = nil
            if outstanding.run == container.runs - 1, let probe = container.probes[kind], !probe.onHold, probe.nextDueAt == nil,
                !(kind == .startup && container.startupPassed)
            {
                container.probes[kind]?.nextDueAt = now
            }
        }
    }

    /// SIGTERM once, then SIGKILL once the stop's deadline passed (at once for a grace of 0).
    private func sendStopSignals(_ container: inout ContainerRecord, podUID: String, now: Nanoseconds, _ directives: inout [RuntimeDirective]) {
        guard container.isRunning, var stop = container.stop else { return }
        if now >= stop.killAt {
            if !stop.killSent {
                directives.append(.signal(podUID: podUID, container: container.spec.name, .kill))
                stop.killSent = true
            }
        } else if !stop.terminateSent {
            directives.append(.signal(podUID: podUID, container: container.spec.name, .terminate))
            stop.terminateSent = true
        }
        container.stop = stop
    }

    /// Sends the pod's status when it changed and the apiserver does not show it yet, and again
    /// after `statusRetryAfter` while the apiserver still does not (a lost write, or the node
    /// controller's Ready=False over a pod the kubelet finds ready).
    private func report(_ record: inout PodRecord, now: Nanoseconds, wallNow: Int64, _ directives: inout [RuntimeDirective]) {
        guard record.reportsStatus else { return }
        let status = record.status(hostIP: hostIP, wallNow: wallNow)
        let shown = StatusComparison.covers(record.apiserverCopy["status"], status)
        if let last = record.lastReport, last.status == status {
            record.lastReportShown = shown
            if shown || now - last.at < settings.statusRetryAfter { return }
        } else if shown {
            record.lastReport = (status, now)
            record.lastReportShown = true
            return
        }
        directives.append(.report(.mergePatch(record.spec.reference, patch: .object(["status": status]), subresource: "status")))
        record.lastReport = (status, now)
        record.lastReportShown = false
    }

    /// Messages from the shell go into the status; a runaway one is cut.
    static func bounded(_ message: String) -> String {
        message.count <= 1024 ? message : String(message.prefix(1024)) + "…"
    }
}
