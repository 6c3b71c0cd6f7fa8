//! What the pod runtime asks its shell to do, and the settings it decides with. The shell
//! (`faultline kubelet`) spawns processes, sends signals, runs probes and writes to the
//! apiserver; the runtime (PodRuntime) only answers events with these directives.
//!
//! The shell's side of the contract: every `start` is answered by exactly one
//! `containerStarted` or `containerStartFailed`, every started container by exactly one
//! `containerExited`, every `probe` by exactly one `probeFinished` (its timeout bounds the
//! wait). A signal for a container that has already exited is dropped.

import Base
import KubeAPI

/// The kubelet's timings, with the real kubelet's defaults.
public struct PodRuntimeSettings: Sendable, Equatable {
    /// The wait before the second restart of a crashed container (the first is immediate);
    /// doubled for each later one (kubelet's `backOffPeriod`).
    public var backoffInitial: Nanoseconds
    /// The longest wait between restarts (kubelet's `MaxContainerBackOff`).
    public var backoffMax: Nanoseconds
    /// A container that ran this long since its last restart starts its back-off over
    /// (client-go's flowcontrol.Backoff forgets an entry after twice its maximum).
    public var backoffResetAfter: Nanoseconds
    /// The wait before the first retry of an image pull that failed, doubled for each later one.
    public var imagePullBackoffInitial: Nanoseconds
    public var imagePullBackoffMax: Nanoseconds
    /// How long a failed pull shows `ErrImagePull` before the pod's next sync shows
    /// `ImagePullBackOff`. The real kubelet's pull takes seconds and its pod worker re-syncs a
    /// failed pod 10–15 s later; here pulls are instant, so the re-sync is modelled as this
    /// short delay, which makes both reasons visible before the first retry.
    public var imagePullErrorShownFor: Nanoseconds
    /// How long a status report or the final delete may go unseen in the apiserver before it is
    /// sent again (the write, or the watch event that shows it, may have been lost).
    public var statusRetryAfter: Nanoseconds
    /// A probe the shell has not answered after its timeout plus this long is taken as lost, so
    /// one lost answer cannot stop a container's probing for good.
    public var probeAnswerSlack: Nanoseconds
    /// Pods with more containers are refused at admission (status Failed) instead of run.
    public var containersPerPodMax: Int
    /// `--max-pods`: a pod admitted while this many others are running or stopping is refused
    /// (`OutOfpods`), as the kubelet's admission does when the scheduler's view was stale.
    public var podsMax: Int

    public init(backoffInitial: Nanoseconds = 10 * Time.second, backoffMax: Nanoseconds = 300 * Time.second,
        backoffResetAfter: Nanoseconds = 600 * Time.second, imagePullBackoffInitial: Nanoseconds = 10 * Time.second,
        imagePullBackoffMax: Nanoseconds = 300 * Time.second, imagePullErrorShownFor: Nanoseconds = Time.second,
        statusRetryAfter: Nanoseconds = 5 * Time.second, probeAnswerSlack: Nanoseconds = 10 * Time.second, containersPerPodMax: Int = 64,
        podsMax: Int = 110)
    {
        precondition(backoffInitial > 0 && backoffInitial <= backoffMax,
            "backoffInitial \(backoffInitial) must be positive and at most backoffMax \(backoffMax)")
        precondition(imagePullBackoffInitial > 0 && imagePullBackoffInitial <= imagePullBackoffMax,
            "imagePullBackoffInitial \(imagePullBackoffInitial) must be positive and at most imagePullBackoffMax \(imagePullBackoffMax)")
        precondition(backoffResetAfter > 0 && statusRetryAfter > 0 && imagePullErrorShownFor >= 0 && probeAnswerSlack >= 0,
            "backoffResetAfter \(backoffResetAfter) and statusRetryAfter \(statusRetryAfter) must be positive, "
                + "imagePullErrorShownFor \(imagePullErrorShownFor) and probeAnswerSlack \(probeAnswerSlack) not negative")
        precondition((1...1024).contains(containersPerPodMax), "containersPerPodMax \(containersPerPodMax) must be 1...1024")
        precondition((1...10_000).contains(podsMax), "podsMax \(podsMax) must be 1...10000")
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.backoffResetAfter = backoffResetAfter
        self.imagePullBackoffInitial = imagePullBackoffInitial
        self.imagePullBackoffMax = imagePullBackoffMax
        self.imagePullErrorShownFor = imagePullErrorShownFor
        self.statusRetryAfter = statusRetryAfter
        self.probeAnswerSlack = probeAnswerSlack
        self.containersPerPodMax = containersPerPodMax
        self.podsMax = podsMax
    }
}

/// Everything the shell needs to start one container.
public struct ContainerLaunch: Sendable, Equatable {
    public var podUID: String
    public var namespace: String
    public var podName: String
    public var containerName: String
    public var image: BuiltinImage
    /// The image as the pod spec names it (`nginx:1.27`), for logs.
    public var imageReference: String
    /// `faultline://<podUID>/<container>/<restartCount>`: names this run of the container (its
    /// log, its process) as the container status does.
    public var containerID: String
    public var command: [String]
    public var args: [String]
    /// The container's literal `env`, its downward-API `fieldRef`s, and POD_NAME,
    /// POD_NAMESPACE, POD_IP and NODE_NAME unless the container sets them itself.
    public var env: [String: String]
    public var podIP: String
    /// The container's TCP containerPorts, in spec order.
    public var ports: [Int]

    public init(podUID: String, namespace: String, podName: String, containerName: String, image: BuiltinImage,
        imageReference: String, containerID: String, command: [String], args: [String], env: [String: String], podIP: String,
        ports: [Int])
    {
        self.podUID = podUID
        self.namespace = namespace
        self.podName = podName
        self.containerName = containerName
        self.image = image
        self.imageReference = imageReference
        self.containerID = containerID
        self.command = command
        self.args = args
        self.env = env
        self.podIP = podIP
        self.ports = ports
    }
}

public enum ProcessSignal: Sendable, Equatable {
    /// SIGTERM: asks the container to stop.
    case terminate
    /// SIGKILL: at the end of the grace period, or at once for a grace period of 0.
    case kill
}

/// How to probe a container, with the host and port already resolved.
public enum ProbeAction: Sendable, Equatable {
    case httpGet(host: String, port: Int, path: String)
    case tcpSocket(host: String, port: Int)
    case exec(command: [String])
}

public enum ProbeKind: Sendable, Equatable, Hashable, CaseIterable {
    case liveness, readiness, startup
}

public enum RuntimeDirective: Sendable, Equatable {
    case start(ContainerLaunch)
    case signal(podUID: String, container: String, ProcessSignal)
    /// Run one probe and answer with `probeFinished`; failing to answer within `timeout` is a failure.
    case probe(podUID: String, container: String, ProbeKind, ProbeAction, timeout: Nanoseconds)
    /// A status merge-patch (subresource `status`), or the final delete (grace 0, with the uid).
    case report(ObjectAction)
    /// A pod address to configure on the node (before the pod's containers start) or to drop.
    case addAddress(String)
    case removeAddress(String)
}
