//! PodRuntime driven by fake shell events: starts and statuses, restart and image-pull
//! back-offs, phases per restart policy, probes, graceful and forced deletion, addresses,
//! status reports and determinism. Every test checks exact values, times and directives.

import Base
import KubeAPI
import KubeNode
import Testing
import Wire

@Suite struct PodRuntimeStartTests {
    @Test func aNewPodGetsAnAddressStartsAndIsReportedPendingThenRunningAndReady() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "docker.io/library/nginx:1.27", ports: [("http", 8080)], env: ["GREETING": "hi"]),
        ]))
        let first = kubelet.sync()
        #expect(first.count == 3, "\(first)")
        #expect(first.first == .addAddress("10.244.1.2"), "the .1 address is the bridge's")
        let launch = try #require(launches(first).first)
        #expect(launch == ContainerLaunch(podUID: "u1", namespace: "default", podName: "web", containerName: "web", image: .echo,
            imageReference: "docker.io/library/nginx:1.27", containerID: "faultline://u1/web/0", command: [], args: [],
            env: ["POD_NAME": "web", "POD_NAMESPACE": "default", "POD_IP": "10.244.1.2", "NODE_NAME": "w1", "GREETING": "hi"],
            podIP: "10.244.1.2", ports: [8080]))
        #expect(kubelet.phase("u1") == "Pending")
        #expect(kubelet.waiting("u1", "web").reason == "ContainerCreating")
        #expect(kubelet.container("u1", "web")?.stringMember("imageID") == "faultline://docker.io/library/nginx:1.27")
        #expect(kubelet.container("u1", "web")?.member("containerID") == nil, "no run yet")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("reason") == "ContainersNotReady")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("message") == "containers with unready status: [web]")
        #expect(kubelet.condition("u1", "PodReadyToStartContainers")?.stringMember("status") == "True")
        #expect(kubelet.status("u1")?.stringMember("podIP") == "10.244.1.2")
        #expect(kubelet.status("u1")?.stringMember("hostIP") == "10.0.0.5")
        #expect(kubelet.status("u1")?.stringMember("qosClass") == "BestEffort")
        #expect(kubelet.status("u1")?.stringMember("startTime") == FakeKubelet.wall(0))

        kubelet.at(2)
        let started = kubelet.started("u1", "web")
        #expect(statusReports(started).count == 1, "\(started)")
        #expect(kubelet.phase("u1") == "Running")
        let status = try #require(kubelet.container("u1", "web"))
        #expect(status.stringMember("state", "running", "startedAt") == FakeKubelet.wall(2))
        #expect(status.boolMember("ready") == true)
        #expect(status.boolMember("started") == true)
        #expect(status.intMember("restartCount") == 0)
        #expect(status.stringMember("containerID") == "faultline://u1/web/0")
        #expect(status.objectMember("lastState")?.count == 0)
        for type in ["Ready", "ContainersReady"] {
            #expect(kubelet.condition("u1", type)?.stringMember("status") == "True")
            #expect(kubelet.condition("u1", type)?.stringMember("lastTransitionTime") == FakeKubelet.wall(2))
        }
        #expect(kubelet.condition("u1", "PodScheduled")?.stringMember("lastTransitionTime") == FakeKubelet.wall(-1),
            "the scheduler's transition time is kept")
        #expect(kubelet.apiserver["u1"]?.arrayMember("status", "conditions").map { $0.stringMember("type") ?? "" }
            == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"])
        // Nothing changes, nothing is sent, and no timer is pending.
        kubelet.at(60)
        #expect(kubelet.sync().isEmpty)
        #expect(kubelet.runtime.nextWakeup == nil)
    }

    @Test func containersStartInSpecOrderAndThePodIsRunningOnlyOnceAllStarted() {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("two", uid: "u1", containers: [
            containerObject("b-main", image: "faultline/sleeper", command: ["sleep", "3600"]),
            containerObject("a-side", image: "busybox:1.36"),
        ]))
        let first = kubelet.sync()
        #expect(launches(first).map(\.containerName) == ["b-main", "a-side"])
        #expect(launches(first).map(\.image) == [.sleeper, .sleeper])
        #expect(launches(first).first?.command == ["sleep", "3600"])
        _ = kubelet.started("u1", "b-main")
        #expect(kubelet.phase("u1") == "Pending", "a-side is still being created")
        _ = kubelet.started("u1", "a-side")
        #expect(kubelet.phase("u1") == "Running")
    }

    @Test func theImageTable() {
        #expect(BuiltinImage.resolve(image: "faultline/echo") == .echo)
        #expect(BuiltinImage.resolve(image: "nginx") == .echo)
        #expect(BuiltinImage.resolve(image: "docker.io/library/httpd:2.4@sha256:abc") == .echo)
        #expect(BuiltinImage.resolve(image: "registry.k8s.io/echoserver:1.10") == .echo)
        #expect(BuiltinImage.resolve(image: "localhost:5000/faultline/sleeper:dev") == .sleeper)
        #expect(BuiltinImage.resolve(image: "registry.k8s.io/pause:3.10") == .sleeper)
        for image in ["busybox", "pause", "alpine:3.20", "ubuntu:24.04", "debian"] {
            #expect(BuiltinImage.resolve(image: image) == .sleeper, "\(image)")
        }
        #expect(BuiltinImage.resolve(image: "faultline/crasher:latest") == .crasher)
        #expect(BuiltinImage.resolve(image: "faultline/other") == nil)
        #expect(BuiltinImage.resolve(image: "redis:7") == nil)
        #expect(BuiltinImage.resolve(image: "Nginx") == nil, "repository paths are lowercase")
        #expect(BuiltinImage.resolve(image: "") == nil)
    }

    @Test func aPodWithTooManyContainersIsRefused() throws {
        var kubelet = FakeKubelet(settings: PodRuntimeSettings(containersPerPodMax: 2))
        kubelet.add(podObject("big", uid: "u1", containers: (0..<3).map { containerObject("c\($0)", image: "pause") }))
        let directives = kubelet.sync()
        #expect(launches(directives).isEmpty)
        #expect(!directives.contains { if case .addAddress = $0 { true } else { false } })
        #expect(kubelet.phase("u1") == "Failed")
        #expect(kubelet.status("u1")?.stringMember("reason") == "UnexpectedAdmissionError")
        #expect(kubelet.status("u1")?.stringMember("message")?.contains("3 containers") == true)
        #expect(kubelet.runtime.addressesInUse == 0)
    }

    @Test func aPodOverTheNodesPodCapacityIsRefused() {
        var kubelet = FakeKubelet(settings: PodRuntimeSettings(podsMax: 1))
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        kubelet.add(podObject("b", uid: "u2", containers: [containerObject("c", image: "pause")]))
        #expect(launches(kubelet.sync()).map(\.podUID) == ["u1"])
        #expect(kubelet.phase("u2") == "Failed")
        #expect(kubelet.status("u2")?.stringMember("reason") == "OutOfpods")
        #expect(kubelet.status("u2")?.stringMember("message")
            == "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1")
    }

    @Test func aStartFailureIsAStartErrorRestartedPerThePolicy() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("p", uid: "u1", containers: [containerObject("c", image: "pause")], restartPolicy: "Never"))
        _ = kubelet.sync()
        kubelet.at(1)
        let failed = kubelet.startFailed("u1", "c", "exec: \"/bin/sh\": not found")
        #expect(launches(failed).isEmpty, "Never restarts nothing")
        let terminated = try #require(kubelet.container("u1", "c")?.member("state", "terminated"))
        #expect(terminated.intMember("exitCode") == 128)
        #expect(terminated.stringMember("reason") == "StartError")
        #expect(terminated.stringMember("message") == "exec: \"/bin/sh\": not found")
        #expect(terminated.stringMember("startedAt") == KubeTime.format(0))
        #expect(kubelet.phase("u1") == "Failed")
        #expect(failed.contains(.removeAddress("10.244.1.2")))
    }
}

@Suite struct PodRuntimeRestartTests {
    /// Crashes the container `rounds` times, each run lasting `runFor(round)` seconds; answers
    /// the wait before each restart and the CrashLoopBackOff messages seen.
    func crashLoop(rounds: Int, runFor: (Int) -> Int64 = { _ in 1 }) throws -> (kubelet: FakeKubelet, waits: [Int64], messages: [String]) {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("crash", uid: "u1", containers: [containerObject("app", image: "faultline/crasher")]))
        _ = kubelet.sync()
        _ = kubelet.started("u1", "app")
        var waits: [Int64] = [], messages: [String] = []
        var t: Int64 = 0
        for round in 0..<rounds {
            t += runFor(round)
            kubelet.at(t)
            let exited = kubelet.exited("u1", "app", code: 1)
            var restartAt = t
            if launches(exited).isEmpty {
                #expect(kubelet.waiting("u1", "app").reason == "CrashLoopBackOff")
                messages.append(kubelet.waiting("u1", "app").message ?? "")
                #expect(kubelet.phase("u1") == "Running", "a pod restarting under Always is Running")
                let wakeup = try #require(kubelet.runtime.nextWakeup)
                kubelet.now = wakeup - 1
                #expect(launches(kubelet.tick()).isEmpty, "started before the back-off ran out")
                kubelet.now = wakeup
                #expect(launches(kubelet.tick()).count == 1)
                restartAt = wakeup / Time.second
            }
            waits.append(restartAt - t)
            t = restartAt
            kubelet.at(t)
            _ = kubelet.started("u1", "app")
        }
        return (kubelet, waits, messages)
    }

    @Test func crashLoopBackOffWaitsNothingThenTenSecondsDoublingUpToFiveMinutes() throws {
        let (kubelet, waits, messages) = try crashLoop(rounds: 9)
        #expect(waits == [0, 10, 20, 40, 80, 160, 300, 300, 300])
        let pod = "pod=crash_default(u1)"
        #expect(messages == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s", "5m0s"].map {
            "back-off \($0) restarting failed container=app \(pod)"
        })
        let status = try #require(kubelet.container("u1", "app"))
        #expect(status.intMember("restartCount") == 9)
        #expect(status.stringMember("containerID") == "faultline://u1/app/9")
        #expect(status.member("state", "running") != nil)
        let last = try #require(status.member("lastState", "terminated"))
        #expect(last.intMember("exitCode") == 1)
        #expect(last.stringMember("reason") == "Error")
        #expect(last.stringMember("containerID") == "faultline://u1/app/8")
    }

    @Test func theFirstRestartShowsTheLastRunAndCountsOnceStarted() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("crash", uid: "u1", containers: [containerObject("app", image: "faultline/crasher")]))
        _ = kubelet.sync()
        kubelet.at(3)
        _ = kubelet.started("u1", "app")
        kubelet.at(8)
        let exited = kubelet.exited("u1", "app", code: 1)
        #expect(launches(exited).map(\.containerID) == ["faultline://u1/app/1"])
        let restarting = try #require(kubelet.container("u1", "app"))
        #expect(restarting.intMember("restartCount") == 0, "counted once the new run starts")
        #expect(restarting.member("lastState", "terminated", "startedAt") == .string(FakeKubelet.wall(3)))
        #expect(restarting.member("lastState", "terminated", "finishedAt") == .string(FakeKubelet.wall(8)))
        #expect(restarting.boolMember("ready") == false)
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "False")
        _ = kubelet.started("u1", "app")
        #expect(kubelet.container("u1", "app")?.intMember("restartCount") == 1)
    }

    @Test func aLongRunResetsTheBackOff() throws {
        // Runs of 1 s up to a 40 s back-off, then one of 601 s: the next restart is immediate
        // and the one after waits 10 s again.
        let (_, waits, _) = try crashLoop(rounds: 6) { $0 == 4 ? 601 : 1 }
        #expect(waits == [0, 10, 20, 40, 0, 10])
        // A run of 500 s is not long enough: the back-off keeps doubling.
        let (_, shortWaits, _) = try crashLoop(rounds: 5) { $0 == 4 ? 500 : 1 }
        #expect(shortWaits == [0, 10, 20, 40, 80])
    }

    @Test func neverAndOnFailurePhases() throws {
        // Never: one exits 0 while the other runs (Running), then the other exits 1 (Failed).
        var never = FakeKubelet()
        never.add(podObject("job", uid: "u1", containers: [containerObject("a", image: "busybox"), containerObject("b", image: "busybox")],
            restartPolicy: "Never"))
        _ = never.sync()
        _ = never.started("u1", "a")
        _ = never.started("u1", "b")
        never.at(5)
        #expect(launches(never.exited("u1", "a", code: 0)).isEmpty)
        #expect(never.phase("u1") == "Running")
        #expect(never.container("u1", "a")?.stringMember("state", "terminated", "reason") == "Completed")
        never.at(6)
        let failed = never.exited("u1", "b", code: 2)
        #expect(launches(failed).isEmpty)
        #expect(never.phase("u1") == "Failed")
        #expect(failed.contains(.removeAddress("10.244.1.2")))
        #expect(never.condition("u1", "Ready")?.stringMember("reason") == "PodFailed")
        #expect(never.condition("u1", "ContainersReady")?.stringMember("reason") == "PodFailed")
        #expect(never.condition("u1", "PodReadyToStartContainers")?.stringMember("status") == "False")
        #expect(never.runtime.addressesInUse == 0)
        never.at(100)
        #expect(never.tick().isEmpty)

        // Never, all exit 0: Succeeded.
        var done = FakeKubelet()
        done.add(podObject("job", uid: "u1", containers: [containerObject("a", image: "busybox")], restartPolicy: "Never"))
        _ = done.sync()
        _ = done.started("u1", "a")
        _ = done.exited("u1", "a", code: 0)
        #expect(done.phase("u1") == "Succeeded")
        #expect(done.condition("u1", "Ready")?.stringMember("reason") == "PodCompleted")

        // OnFailure: a failure restarts (Running), a success ends the pod (Succeeded).
        var onFailure = FakeKubelet()
        onFailure.add(podObject("job", uid: "u1", containers: [containerObject("a", image: "busybox")], restartPolicy: "OnFailure"))
        _ = onFailure.sync()
        _ = onFailure.started("u1", "a")
        onFailure.at(1)
        #expect(launches(onFailure.exited("u1", "a", code: 1)).count == 1)
        #expect(onFailure.phase("u1") == "Running")
        _ = onFailure.started("u1", "a")
        onFailure.at(2)
        let succeeded = onFailure.exited("u1", "a", code: 0)
        #expect(launches(succeeded).isEmpty)
        #expect(onFailure.phase("u1") == "Succeeded")
        #expect(onFailure.container("u1", "a")?.intMember("restartCount") == 1)
        #expect(onFailure.container("u1", "a")?.intMember("lastState", "terminated", "exitCode") == 1)

        // Always restarts a clean exit too.
        var always = FakeKubelet()
        always.add(podObject("svc", uid: "u1", containers: [containerObject("a", image: "busybox")]))
        _ = always.sync()
        _ = always.started("u1", "a")
        #expect(launches(always.exited("u1", "a", code: 0)).count == 1)
        #expect(always.phase("u1") == "Running")
    }

    @Test func anUnknownImageFailsToPullThenBacksOffAndIsRetried() throws {
        var kubelet = FakeKubelet()
        let image = "example.com/team/api:v2"
        kubelet.add(podObject("api", uid: "u1", containers: [containerObject("api", image: image)]))
        let first = kubelet.sync()
        #expect(launches(first).isEmpty)
        #expect(first.first == .addAddress("10.244.1.2"))
        #expect(kubelet.phase("u1") == "Pending")
        #expect(kubelet.waiting("u1", "api").reason == "ErrImagePull")
        #expect(kubelet.waiting("u1", "api").message
            == "failed to pull image \"\(image)\": not a built-in Faultline image (known: \(BuiltinImage.knownImagesDescription))")
        #expect(kubelet.container("u1", "api")?.stringMember("imageID") == "")
        kubelet.at(1)
        _ = kubelet.tick()
        #expect(kubelet.waiting("u1", "api").reason == "ImagePullBackOff")
        #expect(kubelet.waiting("u1", "api").message == "Back-off pulling image \"\(image)\"")
        // The pulls are retried after 10 s, then 20, 40, … at most 300 s apart.
        var attempts: [Int64] = []
        while attempts.count < 7 {
            let wakeup = try #require(kubelet.runtime.nextWakeup)
            kubelet.now = wakeup
            _ = kubelet.tick()
            if kubelet.waiting("u1", "api").reason == "ErrImagePull" { attempts.append(wakeup / Time.second) }
        }
        #expect(attempts == [10, 30, 70, 150, 310, 610, 910])
        #expect(kubelet.phase("u1") == "Pending")
        #expect(kubelet.container("u1", "api")?.intMember("restartCount") == 0)
    }
}

@Suite struct PodRuntimeProbeTests {
    @Test func aReadinessProbeFlipsReadyAndItsTransitionTime() throws {
        var kubelet = FakeKubelet()
        let readiness = probeObject(["httpGet": .object(["port": .string("http"), "path": .string("/healthz")])], period: 5, failure: 2)
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "faultline/echo", ports: [("http", 8080)], probes: ["readinessProbe": readiness]),
        ]))
        _ = kubelet.sync()
        kubelet.at(1)
        let started = kubelet.started("u1", "web")
        let firstProbe = try #require(probes(started).first)
        #expect(firstProbe.kind == .readiness)
        #expect(firstProbe.action == .httpGet(host: "10.244.1.2", port: 8080, path: "/healthz"))
        #expect(started.contains(.probe(podUID: "u1", container: "web", .readiness, firstProbe.action, timeout: Time.second)))
        #expect(kubelet.phase("u1") == "Running")
        #expect(kubelet.container("u1", "web")?.boolMember("ready") == false, "not ready before the first success")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "False")

        kubelet.at(2)
        _ = kubelet.probed("u1", "web", .readiness, true)
        #expect(kubelet.container("u1", "web")?.boolMember("ready") == true)
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "True")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("lastTransitionTime") == FakeKubelet.wall(2))
        #expect(kubelet.runtime.nextWakeup == 6 * Time.second, "every periodSeconds from the last probe")

        // One failure is under the threshold of 2; the second makes the pod unready.
        kubelet.at(6)
        #expect(probes(kubelet.tick()).count == 1)
        _ = kubelet.probed("u1", "web", .readiness, false)
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "True")
        kubelet.at(11)
        #expect(probes(kubelet.tick()).count == 1)
        _ = kubelet.probed("u1", "web", .readiness, false)
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "False")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("lastTransitionTime") == FakeKubelet.wall(11))
        #expect(kubelet.condition("u1", "ContainersReady")?.stringMember("message") == "containers with unready status: [web]")
        #expect(kubelet.condition("u1", "PodScheduled")?.stringMember("lastTransitionTime") == FakeKubelet.wall(-1))

        // A probe still out is not sent again; its late answer lets the next one go at once.
        kubelet.at(16)
        #expect(probes(kubelet.tick()).count == 1)
        kubelet.at(21)
        #expect(probes(kubelet.tick()).isEmpty, "a second probe while one is outstanding")
        kubelet.at(22)
        let answered = kubelet.probed("u1", "web", .readiness, true)
        #expect(probes(answered).count == 1)
        #expect(kubelet.condition("u1", "Ready")?.stringMember("lastTransitionTime") == FakeKubelet.wall(22))
    }

    @Test func livenessFailuresStopTheContainerWithTheGracePeriodAndRestartIt() throws {
        var kubelet = FakeKubelet()
        let liveness = probeObject(["tcpSocket": .object(["port": .integer(8080)])], period: 10)
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "nginx", ports: [(nil, 8080)], probes: ["livenessProbe": liveness]),
        ], grace: 20))
        _ = kubelet.sync()
        let started = kubelet.started("u1", "web")
        #expect(probes(started).map(\.action) == [.tcpSocket(host: "10.244.1.2", port: 8080)])
        #expect(kubelet.container("u1", "web")?.boolMember("ready") == true, "no readiness probe: ready once started")
        #expect(signals(kubelet.probed("u1", "web", .liveness, false)).isEmpty)
        for second: Int64 in [10, 20] {
            kubelet.at(second)
            #expect(probes(kubelet.tick()).count == 1, "at \(second)s")
            let answered = kubelet.probed("u1", "web", .liveness, false)
            #expect(signals(answered) == (second == 20 ? ["web:TERM"] : []), "at \(second)s")
        }
        #expect(kubelet.runtime.nextWakeup == 40 * Time.second, "SIGKILL at the end of terminationGracePeriodSeconds")
        kubelet.at(39)
        #expect(kubelet.tick().isEmpty, "no probes while the container is being stopped")
        kubelet.at(40)
        #expect(signals(kubelet.tick()) == ["web:KILL"])
        kubelet.at(41)
        let exited = kubelet.exited("u1", "web", code: 0, signal: 9)
        #expect(launches(exited).map(\.containerID) == ["faultline://u1/web/1"], "restarted at once the first time")
        #expect(kubelet.container("u1", "web")?.intMember("lastState", "terminated", "exitCode") == 137)
        #expect(kubelet.container("u1", "web")?.stringMember("lastState", "terminated", "reason") == "Error")
        let restarted = kubelet.started("u1", "web")
        #expect(probes(restarted).count == 1, "the new run is probed afresh")
        #expect(kubelet.container("u1", "web")?.intMember("restartCount") == 1)
    }

    @Test func aStartupProbeGatesLivenessAndReadiness() throws {
        var kubelet = FakeKubelet()
        let exec = JSONValue.object(["command": .array([.string("cat"), .string("/tmp/ready")])])
        kubelet.add(podObject("slow", uid: "u1", containers: [
            containerObject("app", image: "busybox", ports: [("web", 80)], probes: [
                "startupProbe": probeObject(["exec": exec], period: 5, failure: 30),
                "livenessProbe": probeObject(["httpGet": .object(["port": .string("web")])], initialDelay: 8),
                "readinessProbe": probeObject(["tcpSocket": .object(["port": .integer(80)])]),
            ]),
        ]))
        _ = kubelet.sync()
        let started = kubelet.started("u1", "app")
        #expect(probes(started).map(\.kind) == [.startup])
        #expect(probes(started).first?.action == .exec(command: ["cat", "/tmp/ready"]))
        #expect(kubelet.container("u1", "app")?.boolMember("started") == false)
        kubelet.at(1)
        _ = kubelet.probed("u1", "app", .startup, false)
        kubelet.at(5)
        #expect(probes(kubelet.tick()).map(\.kind) == [.startup])
        let passed = kubelet.probed("u1", "app", .startup, true)
        #expect(probes(passed).map(\.kind) == [.readiness], "liveness waits for its initial delay (8 s from the start)")
        #expect(kubelet.container("u1", "app")?.boolMember("started") == true)
        #expect(kubelet.container("u1", "app")?.boolMember("ready") == false)
        _ = kubelet.probed("u1", "app", .readiness, true)
        #expect(kubelet.container("u1", "app")?.boolMember("ready") == true)
        #expect(kubelet.runtime.nextWakeup == 8 * Time.second, "liveness due at start + 8 s")
        kubelet.at(8)
        #expect(probes(kubelet.tick()).map(\.action) == [.httpGet(host: "10.244.1.2", port: 80, path: "/")])
    }
}

@Suite struct PodRuntimeProbeEdgeTests {
    @Test func aProbeOnAnUndeclaredPortFailsWithoutRunning() {
        var kubelet = FakeKubelet()
        let readiness = probeObject(["httpGet": .object(["port": .string("metrics")])], period: 5)
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "nginx", ports: [("http", 80)], probes: ["readinessProbe": readiness]),
        ]))
        _ = kubelet.sync()
        #expect(probes(kubelet.started("u1", "web")).isEmpty)
        #expect(kubelet.container("u1", "web")?.boolMember("ready") == false)
        #expect(kubelet.runtime.nextWakeup == 5 * Time.second, "tried again every period")
    }

    @Test func aProbeTheShellNeverAnsweredIsForgottenAfterItsTimeoutAndTheSlack() {
        var kubelet = FakeKubelet()
        let liveness = probeObject(["tcpSocket": .object(["port": .integer(80)])], period: 10)
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "nginx", ports: [(nil, 80)], probes: ["livenessProbe": liveness]),
        ]))
        _ = kubelet.sync()
        #expect(probes(kubelet.started("u1", "web")).count == 1)
        // Timeout 1 s plus 10 s of slack.
        #expect(kubelet.runtime.nextWakeup == 11 * Time.second)
        kubelet.at(10)
        #expect(probes(kubelet.tick()).isEmpty)
        kubelet.at(11)
        #expect(probes(kubelet.tick()).count == 1)
    }

    @Test func anAnswerAboutAnEarlierRunIsDropped() {
        var kubelet = FakeKubelet()
        let readiness = probeObject(["tcpSocket": .object(["port": .integer(80)])], period: 10)
        kubelet.add(podObject("web", uid: "u1", containers: [
            containerObject("web", image: "nginx", ports: [(nil, 80)], probes: ["readinessProbe": readiness]),
        ]))
        _ = kubelet.sync()
        #expect(probes(kubelet.started("u1", "web")).count == 1)
        kubelet.at(1)
        _ = kubelet.exited("u1", "web", code: 1)
        #expect(probes(kubelet.started("u1", "web")).isEmpty, "the first run's probe is still out")
        let late = kubelet.probed("u1", "web", .readiness, true)
        #expect(kubelet.container("u1", "web")?.boolMember("ready") == false, "the answer was about the first run")
        #expect(probes(late).count == 1, "the new run's probe goes out once the old one is answered")
    }
}

@Suite struct PodRuntimeDeletionTests {
    @Test func gracefulDeletionTermsThenKillsAtTheDeadlineThenDeletes() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("web", uid: "u1", containers: [containerObject("a", image: "nginx"), containerObject("b", image: "pause")]))
        _ = kubelet.sync()
        _ = kubelet.started("u1", "a")
        _ = kubelet.started("u1", "b")
        kubelet.at(100)
        kubelet.delete("u1", grace: 30)
        let deleting = kubelet.sync()
        #expect(signals(deleting) == ["a:TERM", "b:TERM"])
        #expect(statusReports(deleting).isEmpty, "no status over a pod being deleted")
        kubelet.at(105)
        #expect(kubelet.exited("u1", "a", code: 0).isEmpty, "b still runs; nothing reported")
        #expect(kubelet.runtime.nextWakeup == 130 * Time.second)
        kubelet.at(129)
        #expect(kubelet.tick().isEmpty)
        kubelet.at(130)
        #expect(signals(kubelet.tick()) == ["b:KILL"])
        kubelet.at(131)
        kubelet.apiserverTakesReports = false
        let finished = kubelet.exited("u1", "b", code: 0, signal: 9)
        let reference = ObjectReference(.standard("pods"), namespace: "default", name: "web")
        #expect(finished == [.removeAddress("10.244.1.2"), .report(.delete(reference, uid: "u1", gracePeriodSeconds: 0))])
        #expect(kubelet.runtime.addressesInUse == 0)
        // The delete was lost: it goes again after statusRetryAfter while the pod is still there.
        kubelet.at(133)
        #expect(kubelet.sync().isEmpty)
        #expect(kubelet.runtime.nextWakeup == 136 * Time.second)
        kubelet.at(136)
        #expect(deletes(kubelet.tick()) == [.delete(reference, uid: "u1", gracePeriodSeconds: 0)])
        kubelet.apiserver["u1"] = nil
        kubelet.at(137)
        #expect(kubelet.sync().isEmpty)
        #expect(kubelet.runtime.podsTracked == 0)
        #expect(kubelet.runtime.nextWakeup == nil)
    }

    @Test func aGracePeriodOfZeroKillsAtOnceAndAShorterOneWins() {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        kubelet.add(podObject("b", uid: "u2", containers: [containerObject("c", image: "pause")]))
        _ = kubelet.sync()
        _ = kubelet.started("u1", "c")
        _ = kubelet.started("u2", "c")
        kubelet.at(10)
        kubelet.delete("u1", grace: 0)
        kubelet.delete("u2", grace: 60)
        let directives = kubelet.sync()
        #expect(directives == [.signal(podUID: "u1", container: "c", .kill), .signal(podUID: "u2", container: "c", .terminate)])
        kubelet.at(20)
        kubelet.delete("u2", grace: 5)
        #expect(kubelet.sync().isEmpty)
        #expect(kubelet.runtime.nextWakeup == 25 * Time.second)
    }

    @Test func aContainerStillStartingWhenThePodIsDeletedIsStoppedOnceItStarts() {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        _ = kubelet.sync()
        kubelet.delete("u1", grace: 30)
        #expect(kubelet.sync().isEmpty, "nothing to signal yet, and the pod is not gone yet")
        #expect(signals(kubelet.started("u1", "c")) == ["c:TERM"])
        #expect(deletes(kubelet.exited("u1", "c", code: 0)).count == 1)
    }

    @Test func aForceRemovedPodIsKilledAndItsAddressFreed() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        _ = kubelet.sync()
        _ = kubelet.started("u1", "c")
        kubelet.apiserver["u1"] = nil
        kubelet.at(3)
        #expect(kubelet.sync() == [.signal(podUID: "u1", container: "c", .kill)])
        #expect(kubelet.runtime.podsTracked == 1, "kept until its container is gone")
        #expect(kubelet.runtime.addressesInUse == 1)
        #expect(kubelet.exited("u1", "c", code: 0, signal: 9) == [.removeAddress("10.244.1.2")])
        #expect(kubelet.runtime.podsTracked == 0)
        #expect(kubelet.runtime.addressesInUse == 0)
        kubelet.add(podObject("b", uid: "u2", containers: [containerObject("c", image: "pause")]))
        #expect(kubelet.sync().first == .addAddress("10.244.1.2"), "the freed address is given out again")
    }
}

@Suite struct PodRuntimeAddressAndReportTests {
    @Test func addressesComeFromTheRangeAndAreReusedAndWithoutARangePodsShareTheHost() {
        var kubelet = FakeKubelet()
        for (index, uid) in ["u1", "u2"].enumerated() {
            kubelet.add(podObject("p\(index)", uid: uid, containers: [containerObject("c", image: "pause")]))
        }
        let first = kubelet.sync()
        #expect(first.filter { if case .addAddress = $0 { true } else { false } } == [.addAddress("10.244.1.2"), .addAddress("10.244.1.3")])
        #expect(kubelet.runtime.addressesInUse == 2)

        var shared = FakeKubelet(podCIDR: nil)
        shared.add(podObject("p", uid: "u1", containers: [containerObject("c", image: "pause")]))
        shared.add(podObject("h", uid: "u2", containers: [containerObject("c", image: "pause")], spec: ["hostNetwork": .bool(true)]))
        let directives = shared.sync()
        #expect(!directives.contains { if case .addAddress = $0 { true } else { false } }, "the host's address is not added")
        #expect(launches(directives).map(\.podIP) == ["10.0.0.5", "10.0.0.5"])
        #expect(shared.status("u1")?.stringMember("podIP") == "10.0.0.5")
    }

    @Test func aFullRangeLeavesThePodCreatingUntilAnAddressIsFreed() {
        // A /30 has two host addresses; the first is the bridge's.
        var kubelet = FakeKubelet(podCIDR: "10.244.1.0/30")
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        kubelet.add(podObject("b", uid: "u2", containers: [containerObject("c", image: "pause")]))
        let first = kubelet.sync()
        #expect(launches(first).map(\.podUID) == ["u1"])
        #expect(kubelet.phase("u2") == "Pending")
        #expect(kubelet.waiting("u2", "c").reason == "ContainerCreating")
        #expect(kubelet.status("u2")?.member("podIP") == nil)
        #expect(kubelet.condition("u2", "PodReadyToStartContainers")?.stringMember("status") == "False")
        kubelet.apiserver["u1"] = nil
        _ = kubelet.sync()
        let freed = kubelet.exited("u1", "c", code: 0, signal: 9)
        #expect(freed.first == .removeAddress("10.244.1.2"))
        #expect(launches(freed).map(\.podUID) == ["u2"], "the waiting pod gets the freed address at once")
        #expect(launches(freed).first?.podIP == "10.244.1.2")
    }

    @Test func aRestartedKubeletKeepsThePodsAddressAndRestartCount() throws {
        var kubelet = FakeKubelet()
        var pod = podObject("web", uid: "u1", containers: [containerObject("web", image: "nginx")])
        pod.set("status.phase", .string("Running"))
        pod.set("status.podIP", .string("10.244.1.7"))
        pod.set("status.startTime", .string(FakeKubelet.wall(-100)))
        pod.set("status.containerStatuses", .array([.object([
            "name": .string("web"), "restartCount": .integer(4),
            "state": .object(["running": .object(["startedAt": .string(FakeKubelet.wall(-90))])]),
        ])]))
        kubelet.add(pod)
        let directives = kubelet.sync()
        #expect(directives.first == .addAddress("10.244.1.7"))
        #expect(launches(directives).map(\.containerID) == ["faultline://u1/web/5"])
        _ = kubelet.started("u1", "web")
        #expect(kubelet.container("u1", "web")?.intMember("restartCount") == 5)
        #expect(kubelet.status("u1")?.stringMember("startTime") == FakeKubelet.wall(-100))
    }

    @Test func aLostReportIsSentAgainAfterTheRetryInterval() {
        var kubelet = FakeKubelet()
        kubelet.apiserverTakesReports = false
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        #expect(statusReports(kubelet.sync()).count == 1)
        kubelet.at(4)
        #expect(statusReports(kubelet.sync()).isEmpty)
        #expect(kubelet.runtime.nextWakeup == 5 * Time.second)
        kubelet.at(5)
        #expect(statusReports(kubelet.tick()).count == 1)
        kubelet.apiserverTakesReports = true
        kubelet.at(10)
        #expect(statusReports(kubelet.tick()).count == 1)
        kubelet.at(30)
        #expect(kubelet.tick().isEmpty, "shown now")
        #expect(kubelet.runtime.nextWakeup == nil)
    }

    @Test func aPodTheNodeControllerMarkedNotReadyIsReportedReadyAgain() throws {
        var kubelet = FakeKubelet()
        kubelet.add(podObject("a", uid: "u1", containers: [containerObject("c", image: "pause")]))
        _ = kubelet.sync()
        kubelet.at(1)
        _ = kubelet.started("u1", "c")
        // The node was silent; the node lifecycle controller set Ready=False on its pods.
        var pod = try #require(kubelet.apiserver["u1"])
        let conditions = pod.arrayMember("status", "conditions").map { condition -> JSONValue in
            guard condition.stringMember("type") == "Ready" else { return condition }
            var marked = condition
            marked.set("status", .string("False"))
            marked.set("lastTransitionTime", .string(FakeKubelet.wall(50)))
            return marked
        }
        pod.set("status.conditions", .array(conditions))
        kubelet.apiserver["u1"] = pod
        kubelet.at(50)
        let reports = statusReports(kubelet.sync())
        #expect(reports.count == 1, "the kubelet's view is put back")
        let ready = try #require(reports.first?.arrayMember("conditions").first { $0.stringMember("type") == "Ready" })
        #expect(ready.stringMember("status") == "True")
        #expect(ready.stringMember("lastTransitionTime") == FakeKubelet.wall(1), "the kubelet's own transition time")
        #expect(kubelet.condition("u1", "Ready")?.stringMember("status") == "True")
        kubelet.at(60)
        #expect(kubelet.sync().isEmpty)
    }

    @Test func theSameInputsGiveTheSameDirectives() {
        func run(listsInUIDOrder: Bool) -> [RuntimeDirective] {
            var kubelet = FakeKubelet()
            kubelet.listsInUIDOrder = listsInUIDOrder
            var all: [RuntimeDirective] = []
            for index in 0..<5 {
                kubelet.add(podObject("p\(index)", uid: "u\(4 - index)", containers: [
                    containerObject("a", image: index == 2 ? "redis" : "nginx", ports: [("http", 80)],
                        probes: ["readinessProbe": probeObject(["httpGet": .object(["port": .string("http")])])]),
                    containerObject("b", image: "faultline/crasher"),
                ]))
            }
            all += kubelet.sync()
            for uid in ["u0", "u1", "u3", "u4"] {
                all += kubelet.started(uid, "a")
                all += kubelet.started(uid, "b")
            }
            for second: Int64 in [1, 2, 3] {
                kubelet.at(second)
                for uid in ["u4", "u0"] { all += kubelet.exited(uid, "b", code: 1) }
                all += kubelet.tick()
            }
            kubelet.delete("u3", grace: 10)
            all += kubelet.sync()
            return all
        }
        let first = run(listsInUIDOrder: false), second = run(listsInUIDOrder: true)
        #expect(first == second)
        #expect(first.count >= 40, "\(first.count)")
        let firstSync = launches(first).prefix(9).map { "\($0.podUID)/\($0.containerName)" }
        #expect(firstSync == ["u0/a", "u0/b", "u1/a", "u1/b", "u2/b", "u3/a", "u3/b", "u4/a", "u4/b"], "pods in uid order, containers in spec order")
    }
}
