//! Pod-to-pod traffic between hosts crosses the fault proxy (root only; CI runs as root):
//! `faultline up` a two-host cluster in namespaces, put a pod address on host 1's `lo` with an
//! echo server (`faultline container --program echo`) on it, and from host 2 — from its real
//! address and from a pod address of its own — reach it through the proxy, on the link
//! worker -> etcd-1, with that link's rules applied: a latency rule delays it, isolating host 1
//! cuts it off while host 1 still reaches its own pod (on its own `lo`), and healing restores it.
//! Host 2 only sleeps, so every connection counted on that link is the test's own.

import Base
import Foundation
import Testbed
import Testing

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
/// The release binary (Scripts/test builds it before running the tests).
private let faultline = repository + "/.build/release/faultline"

@discardableResult
private func cli(_ arguments: [String]) -> (status: Int32, output: String) { run([faultline] + arguments) }

/// `GET url` from inside `namespace`, dialling from `source` when given, with a timeout: the body,
/// or nil when it failed (refused, reset, timed out).
private func get(_ url: String, from namespace: String, source: String? = nil, timeout: Double = 2) -> String? {
    let script = """
        import sys, urllib.parse, http.client
        u = urllib.parse.urlsplit("\(url)")
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=\(timeout)\(source.map { ", source_address=(\"\($0)\", 0)" } ?? ""))
        try:
            c.request("GET", u.path or "/"); r = c.getresponse(); print("ok " + r.read().decode().strip())
        except Exception as e: print("failed " + repr(e))
        """
    let output = run(["/usr/bin/python3", "-c", script], in: namespace).output.trimmingCharacters(in: .whitespacesAndNewlines)
    return output.hasPrefix("ok ") ? String(output.dropFirst(3)) : nil
}

/// One link's counters, from `fault list -o json`.
private func link(_ from: String, _ to: String, in cluster: String) -> [String: Any] {
    let output = cli(["fault", "list", "-o", "json", "-c", cluster]).output
    guard let object = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any],
        let links = object["links"] as? [[String: Any]]
    else { return [:] }
    return links.first { $0["from"] as? String == from && $0["to"] as? String == to } ?? [:]
}

private func accepted(_ from: String, _ to: String, in cluster: String) -> Int {
    link(from, to, in: cluster)["connections_accepted"] as? Int ?? 0
}

private func eventually<T>(seconds: Double, _ body: () -> T?) -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = body() { return value }
        usleep(100_000)
    }
    return nil
}

extension RootTests {
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: faultline), "needs the release build"))
struct PodTrafficEndToEndTests {
    static let topology = """
        name: pods
        description: Two hosts whose pods reach each other through the fault proxy.
        pod_ports: [8080]
        hosts:
          - name: etcd-1
            role: etcd
          - name: worker
            role: external
            program: {path: /bin/sleep, args: ["3600"]}
        """

    @Test func podTrafficBetweenHostsCrossesTheProxy() throws {
        let cluster = "e2e-pods"
        cli(["down", cluster])
        let file = NSTemporaryDirectory() + "fl-pods-\(getpid()).yaml"
        try Self.topology.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let up = cli(["up", file, "--name", cluster, "--timing", "fast"])
        defer {
            // Normally the test took it down itself; this catches a failure half-way.
            if FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path) { cli(["down", cluster]) }
        }
        try #require(up.status == 0, "up failed: \(up.output)")
        let record = try ClusterDirectory(cluster: cluster).load()
        let host1 = try #require(record.host("etcd-1")?.namespace), host2 = try #require(record.host("worker")?.namespace)
        #expect(record.plan.podNetwork("etcd-1") == "10.244.1.0/24" && record.plan.podPorts == [8080])

        // A pod on host 1: its address on host 1's lo (as the kubelet does it), an echo server on it.
        let ip = Namespaces.exec(in: host1)[0]
        #expect(run([ip, "-n", host1, "addr", "add", "10.244.1.2/32", "dev", "lo"]).status == 0)
        #expect(run([ip, "-n", host2, "addr", "add", "10.244.2.5/32", "dev", "lo"]).status == 0)
        let pod = Process()
        let command = Namespaces.exec(in: host1) + [faultline, "container", "--program", "echo", "--pod-name", "web-1",
            "--pod-ip", "10.244.1.2", "--port", "8080"]
        pod.executableURL = URL(fileURLWithPath: command[0])
        pod.arguments = Array(command.dropFirst())
        pod.standardOutput = FileHandle.nullDevice
        try pod.run()
        var podStopped = false
        defer {
            if !podStopped {
                kill(pod.processIdentifier, SIGKILL)
                pod.waitUntilExit()
            }
        }
        let url = "http://10.244.1.2:8080/"
        #expect(eventually(seconds: 10) { get(url, from: host1) } == "web-1", "the pod does not answer on its own host")

        // From host 2, through the proxy, on the link worker -> etcd-1.
        #expect(get(url, from: host2) == "web-1", "host 2 does not reach the pod on host 1")
        #expect(accepted("worker", "etcd-1", in: cluster) == 1, "\(link("worker", "etcd-1", in: cluster))")
        // From a pod address of host 2: known by its pod network, the same link.
        #expect(get(url, from: host2, source: "10.244.2.5") == "web-1", "host 2's pod address does not reach the pod on host 1")
        #expect(accepted("worker", "etcd-1", in: cluster) == 2)
        // Host 1 reaching its own pod stays on its own lo: no connection through the proxy.
        #expect(get(url, from: host1) == "web-1")
        #expect(accepted("worker", "etcd-1", in: cluster) == 2 && accepted("etcd-1", "etcd-1", in: cluster) == 0)

        // A latency rule on the link delays the pod's answer as it would a service's.
        #expect(cli(["fault", "latency", "--from", "etcd-1", "--to", "worker", "--delay", "300ms", "-c", cluster]).status == 0)
        let began = Date()
        #expect(get(url, from: host2, timeout: 5) == "web-1")
        #expect(Date().timeIntervalSince(began) >= 0.3, "the latency rule did not delay the pod's answer")
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)

        // Isolate host 1: its pod is cut off from host 2, and still answers on host 1 itself.
        let isolate = cli(["fault", "isolate", "etcd-1", "-c", cluster])
        try #require(isolate.status == 0, "isolate: \(isolate.output)")
        #expect(get(url, from: host2, timeout: 1.5) == nil, "host 2 reached the isolated host's pod")
        #expect(get(url, from: host2, source: "10.244.2.5", timeout: 1.5) == nil, "host 2's pod reached the isolated host's pod")
        #expect(get(url, from: host1) == "web-1", "host 1 lost its own pod")
        #expect((link("worker", "etcd-1", in: cluster)["connections_held"] as? Int ?? 0) >= 1, "no pod connection held by the isolation")

        // Heal: reachable again.
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)
        #expect(eventually(seconds: 5) { get(url, from: host2) } == "web-1", "the pod is unreachable after the heal")

        // Down leaves nothing: no namespaces (the pod addresses and routes go with them).
        kill(pod.processIdentifier, SIGTERM)
        pod.waitUntilExit()
        podStopped = true
        #expect(cli(["down", cluster]).status == 0)
        #expect(try Namespaces.existing(prefix: "fl-\(cluster)-").isEmpty, "namespaces left behind")
        #expect(!FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path))
    }
}
}
