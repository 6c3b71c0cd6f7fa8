//! What the runtime remembers about one container of a pod: where it is in its life (waiting,
//! starting, running, terminated), its runs so far, its restart and image-pull back-offs, a
//! stop in progress, and its probes.

import Base

/// client-go's flowcontrol.Backoff for one key, without jitter: the kubelet's restart and
/// image-pull back-offs.
struct Backoff: Sendable, Equatable {
    /// The current wait; nil before the first `next`.
    var delay: Nanoseconds?
    /// When `next` last ran.
    var lastUpdate: Nanoseconds = 0

    /// An entry is forgotten when the event it is asked about comes more than `resetAfter` after
    /// its last update: the container ran long enough to count as healthy.
    func expired(eventTime: Nanoseconds, resetAfter: Nanoseconds) -> Bool { eventTime - lastUpdate > resetAfter }

    /// `IsInBackOffSince`: whether, at `now`, a restart after an exit at `eventTime` must still wait.
    func isInBackOff(since eventTime: Nanoseconds, now: Nanoseconds, resetAfter: Nanoseconds) -> Bool {
        guard let delay, !expired(eventTime: eventTime, resetAfter: resetAfter) else { return false }
        return now - eventTime < delay
    }

    /// `Next`: the initial wait for a new or forgotten entry, else twice the last, capped.
    mutating func next(eventTime: Nanoseconds, now: Nanoseconds, initial: Nanoseconds, maximum: Nanoseconds, resetAfter: Nanoseconds) {
        if let delay, !expired(eventTime: eventTime, resetAfter: resetAfter) {
            self.delay = min(delay * 2, maximum)
        } else {
            delay = initial
        }
        lastUpdate = now
    }
}

/// One finished run of a container, as `state.terminated` / `lastState.terminated` show it.
struct Termination: Sendable, Equatable {
    var exitCode: Int32
    var reason: String
    var message: String?
    /// Wall seconds; 0 (the epoch) for a run that never started, as the real kubelet shows a
    /// StartError.
    var startedAt: Int64
    var finishedAt: Int64
    var containerID: String
}

enum ContainerPhase: Sendable, Equatable {
    /// Not running and not being started: ContainerCreating (first start, or no address yet),
    /// ErrImagePull, ImagePullBackOff, CrashLoopBackOff.
    case waiting(reason: String, message: String?)
    /// A start directive is out; the shell has not answered yet.
    case starting
    case running
    /// Exited and not to be started again (the restart policy says so, or the pod is going).
    case terminated(Termination)
}

/// Why a container is being stopped.
enum StopReason: Sendable, Equatable {
    case livenessFailed, startupFailed, podDeleted, podRemoved
}

struct StopRequest: Sendable, Equatable {
    var reason: StopReason
    /// SIGKILL goes out at this instant if the container is still running.
    var killAt: Nanoseconds
    var terminateSent = false
    var killSent = false
}

/// One probe of the current run.
struct ProbeState: Sendable, Equatable {
    /// When it is next run; nil while it waits for the startup probe or is done or on hold.
    var nextDueAt: Nanoseconds?
    /// The kubelet's worker: the last result and how many times in a row it came.
    var lastResult: Bool?
    var resultRun = 0
    /// After a liveness or startup failure the container is being stopped: no more probing.
    var onHold = false
}

/// A probe directive the shell has not answered yet. Kept across restarts, so an answer about
/// an earlier run is recognised and dropped, and no second probe of that kind goes out meanwhile.
struct OutstandingProbe: Sendable, Equatable {
    var run: Int
    var issuedAt: Nanoseconds
    var timeout: Nanoseconds
}

struct ContainerRecord: Sendable {
    var spec: ContainerSpec
    var phase: ContainerPhase = .waiting(reason: "ContainerCreating", message: nil)
    /// The previous finished run (`lastState`).
    var lastTermination: Termination?
    var restartCount: Int
    /// Runs begun (started or failed to start) in this kubelet; the current run is `runs - 1`.
    var runs = 0
    /// Whether the container ran before (in this kubelet or, per the apiserver, an earlier one),
    /// so that its next start is a restart.
    var hasRun: Bool
    var containerID: String?
    /// The current run's start, wall seconds and monotonic.
    var runStartedWall: Int64 = 0
    var runStarted: Nanoseconds = 0
    /// When the latest run finished (monotonic): the back-off is measured from there.
    var lastFinished: Nanoseconds?
    var crashBackoff = Backoff()
    var pullBackoff = Backoff()
    /// When a waiting container is next pulled and started.
    var nextAttemptAt: Nanoseconds? = 0
    /// When a failed pull's ErrImagePull turns into ImagePullBackOff.
    var pullBackOffShownAt: Nanoseconds?
    /// Whether the image is known and was "pulled" (the status then carries an imageID).
    var pulled = false
    var stop: StopRequest?
    var probes: [ProbeKind: ProbeState] = [:]
    var outstanding: [ProbeKind: OutstandingProbe] = [:]
    /// The startup probe passed, or there is none (`started`); the readiness verdict (`ready`
    /// once started: true without a readiness probe).
    var startupPassed = false
    var readinessPassed = false

    init(spec: ContainerSpec, restartCount: Int = 0, hasRun: Bool = false) {
        self.spec = spec
        self.restartCount = restartCount
        self.hasRun = hasRun
    }

    var isRunning: Bool { phase == .running }
    /// Running or about to be: a process that may exist and must be waited for before the pod goes.
    var mayHaveProcess: Bool { phase == .running || phase == .starting }
    var started: Bool { isRunning && startupPassed }
    var ready: Bool { started && (spec.readiness == nil || readinessPassed) }

    /// The containerID a run begun now gets.
    func nextContainerID(podUID: String) -> String {
        "faultline://\(podUID)/\(spec.name)/\(hasRun ? restartCount + 1 : restartCount)"
    }

    /// A run begins (started or failed to start): a restart counts.
    mutating func beginRun(podUID: String) {
        containerID = nextContainerID(podUID: podUID)
        if hasRun { restartCount += 1 }
        hasRun = true
        runs += 1
    }
}
