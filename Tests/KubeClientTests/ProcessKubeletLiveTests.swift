//! A kubelet in process mode on loopback, against a store member and an apiserver in this
//! process: pods bound to its node run as `faultline container` processes with addresses from a
//! 127.x pod range. An echo pod becomes Ready through its readiness probe and answers with its
//! name at its pod IP; a liveness failure restarts it; a crasher goes into CrashLoopBackOff
//! with growing restart counts; an unknown image gets ErrImagePull; a graceful delete stops the
//! container with SIGTERM and the kubelet finishes the deletion. A kubelet that stops leaves its
//! containers serving; the next one replaces them.
//!
//! It runs the `faultline` executable the build made (`.build/<configuration>/faultline`), and
//! is skipped when there is none.

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeComponents
import KubeNode
import Net
import Testing
import Wire

@Suite(.serialized) struct ProcessKubeletLiveTests {
    static var executable: String? {
        let built = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("faultline").path
        let candidates = [built, ".build/release/faultline", ".build/debug/faultline"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    static let node = "p1"

    func pod(_ name: String, _ container: String, restartPolicy: String = "Always") -> JSONValue {
        try! JSON.parse(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default"},
             "spec":{"nodeName":"\#(Self.node)","restartPolicy":"\#(restartPolicy)","terminationGracePeriodSeconds":5,"containers":[\#(container)]}}
            """#)
    }

    func container(_ pod: JSONValue) -> JSONValue? { pod.arrayMember("status", "containerStatuses").first }

    func isReady(_ pod: JSONValue) -> Bool {
        pod.arrayMember("status", "conditions").contains { $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True" }
    }

    @Test(.enabled(if: executable != nil, "no faultline executable built"))
    func podsRunAsProcessesWithProbesRestartsAndGracefulDeletion() throws {
        let cluster = try LiveCluster(basePort: 23210)
        defer { cluster.stop() }
        let root = NSTemporaryDirectory() + "faultline-process-kubelet-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = KubeletConfiguration(nodes: [NodeIdentity(name: Self.node, internalIP: "127.0.0.1", podCIDR: "127.244.1.0/24")])
        configuration.nodeStatusUpdateFrequency = Time.second
        var runtime = ProcessRuntimeSettings(rootDirectory: root, executable: Self.executable!)
        runtime.pods = PodRuntimeSettings(backoffInitial: Time.second, backoffMax: 4 * Time.second, imagePullBackoffInitial: Time.second,
            imagePullBackoffMax: 2 * Time.second, statusRetryAfter: Time.second)
        configuration.processRuntime = runtime
        let makeKubelet = { KubeletDaemon(settings: ComponentSettings(apiservers: cluster.urls, identity: Self.node, log: { _ in }),
            configuration: configuration) }
        var kubelet = makeKubelet()
        try kubelet.start()
        defer {
            kubelet.stop()
            kubelet.killContainers()
        }
        let client = try cluster.client()
        let reference = { (name: String) in ObjectReference(.standard("pods"), namespace: "default", name: name) }

        // An echo server with a readiness probe: Running, Ready, its own address, answering with its name.
        _ = try client.create(.standard("pods"), namespace: "default", object: pod("web", #"""
            {"name":"web","image":"nginx:1.27","ports":[{"name":"http","containerPort":8080}],
             "readinessProbe":{"httpGet":{"path":"/ready","port":"http"},"periodSeconds":1},
             "livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":1,"failureThreshold":2}}
            """#))
        try waitUntil(20, "web Running and Ready") {
            let web = try client.get(reference("web"))
            return web.stringMember("status", "phase") == "Running" && isReady(web)
        }
        let web = try client.get(reference("web"))
        let podIP = try #require(web.stringMember("status", "podIP"))
        #expect(podIP.hasPrefix("127.244.1."), "the pod's address comes from the node's range: \(podIP)")
        let echo = HTTPClient(endpoint: Endpoint(host: podIP, port: 8080))
        #expect(try echo.get("/", timeout: 2 * Time.second).text == "web\n")

        // Its liveness endpoint starts failing: the kubelet restarts the container.
        #expect(try echo.get("/fail-health", timeout: 2 * Time.second).status == 200)
        echo.disconnect()
        try waitUntil(20, "web restarted after its liveness probe failed") {
            let web = try client.get(reference("web"))
            return container(web)?.member("restartCount") == .integer(1) && isReady(web)
        }

        // The kubelet stops (as if killed): the container keeps serving. The next kubelet stops
        // the container its predecessor left (by its pid file) and starts it afresh at the same
        // address.
        let uid = try #require(web.stringMember("metadata", "uid"))
        let pidFile = root + "/containers/\(uid)_web.pid"
        let readPid = { Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") }
        let oldPid = try #require(readPid())
        kubelet.stop()
        #expect(try echo.get("/", timeout: 2 * Time.second).text == "web\n", "the pod serves while its kubelet is down")
        echo.disconnect()
        kubelet = makeKubelet()
        try kubelet.start()
        try waitUntil(20, "web served by a new container under the new kubelet, at the same address") {
            let web = try client.get(reference("web"))
            guard let newPid = readPid(), newPid != oldPid, isReady(web), web.stringMember("status", "podIP") == podIP else { return false }
            defer { echo.disconnect() }
            return (try? echo.get("/", timeout: Time.second).text) == "web\n"
        }
        try waitUntil(5, "the container the first kubelet left gone (and reaped)") { kill(oldPid, 0) != 0 }

        // A crasher: restarted again and again, with CrashLoopBackOff between restarts.
        _ = try client.create(.standard("pods"), namespace: "default", object: pod("crash", #"""
            {"name":"crash","image":"faultline/crasher","env":[{"name":"CRASH_AFTER","value":"200ms"}]}
            """#))
        var sawBackOff = false
        try waitUntil(30, "crash restarted twice, in CrashLoopBackOff between") {
            let crash = try client.get(reference("crash"))
            if container(crash)?.stringMember("state", "waiting", "reason") == "CrashLoopBackOff" { sawBackOff = true }
            guard case .integer(let restarts) = container(crash)?.member("restartCount") ?? .null else { return false }
            return restarts >= 2 && sawBackOff
        }
        let crash = try client.get(reference("crash"))
        #expect(container(crash)?.member("lastState", "terminated", "exitCode") == .integer(1))
        #expect(container(crash)?.stringMember("lastState", "terminated", "reason") == "Error")

        // An image Faultline does not have: ErrImagePull or ImagePullBackOff, and the pod stays Pending.
        _ = try client.create(.standard("pods"), namespace: "default", object: pod("missing", #"{"name":"app","image":"example.com/nope:1"}"#))
        try waitUntil(15, "missing shows an image pull error") {
            let missing = try client.get(reference("missing"))
            let reason = container(missing)?.stringMember("state", "waiting", "reason")
            return missing.stringMember("status", "phase") == "Pending" && (reason == "ErrImagePull" || reason == "ImagePullBackOff")
        }

        // A sleeper that ends on its own under restartPolicy Never: Succeeded, exit code 0.
        _ = try client.create(.standard("pods"), namespace: "default", object: pod("job", #"""
            {"name":"job","image":"busybox","command":["sh","-c","exit 0"]}
            """#, restartPolicy: "Never"))
        try waitUntil(15, "job Succeeded") { try client.get(reference("job")).stringMember("status", "phase") == "Succeeded" }

        // A user command gets SIGTERM too: a sleeping busybox goes well within its 30 s grace period.
        // (Dispatch's threads block SIGTERM, and a child inherits its spawner's signal mask.)
        _ = try client.create(.standard("pods"), namespace: "default", object: pod("sleepy", #"""
            {"name":"sleepy","image":"busybox","command":["sleep","3600"]}
            """#))
        try waitUntil(15, "sleepy Running") { try client.get(reference("sleepy")).stringMember("status", "phase") == "Running" }
        let deleteStarted = Date()
        _ = try client.delete(reference("sleepy"))
        try waitUntil(25, "sleepy deleted") {
            do throws(APIError) { _ = try client.get(reference("sleepy")); return false } catch where error.isNotFound { return true }
        }
        #expect(Date().timeIntervalSince(deleteStarted) < 10, "sleepy took \(Date().timeIntervalSince(deleteStarted)) s: SIGTERM did not reach sleep")

        // A graceful delete: SIGTERM reaches the echo server, it exits 0, the kubelet removes the pod.
        _ = try client.delete(reference("web"))
        try waitUntil(15, "web deleted") {
            do throws(APIError) { _ = try client.get(reference("web")); return false } catch where error.isNotFound { return true }
        }
        let exitStatus = try String(contentsOfFile: root + "/containers/\(uid)_web.exit", encoding: .utf8)
        #expect(exitStatus.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the echo server stopped cleanly on SIGTERM")
        #expect(throws: (any Error).self, "nothing listens at the deleted pod's address") {
            let gone = HTTPClient(endpoint: Endpoint(host: podIP, port: 8080), connectTimeout: Time.second)
            _ = try gone.get("/", timeout: Time.second)
        }
    }
}
