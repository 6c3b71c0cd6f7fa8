//! The kubectl transcript against a cluster in network namespaces (root only; CI runs as root):
//! `faultline up Topologies/k8s-apiserver.yaml` (three etcd members, two apiservers, every byte
//! through the fault proxy), kubectl on the kubeconfig `up` wrote — on the built-in store and on
//! real etcd 3.4 — then failover: with apiserver-1 killed, its context fails and the other
//! apiserver's serves; with the etcd member the apiservers dial first isolated, they move on to
//! the others and kubectl still creates objects.

import Foundation
import Net
import Testing

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
let faultline = repository + "/.build/release/faultline"

@discardableResult
func cli(_ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: faultline)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    guard (try? process.run()) != nil else { return (-1, "cannot run \(faultline)") }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

@Suite(.serialized, .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: faultline),
    "needs root (network namespaces) and the release build"))
struct NamespacedKubectlTests {
    @Test(arguments: ["builtin", "etcd"])
    func transcriptAndFailover(impl: String) throws {
        let cluster = "kube-\(impl)"
        cli(["down", cluster])
        let up = cli(["up", repository + "/Topologies/k8s-apiserver.yaml", "--name", cluster, "--impl", impl])
        defer { cli(["down", cluster]) }
        try #require(up.status == 0, "up failed: \(up.output)")
        let path = cli(["kubeconfig", "-c", cluster])
        try #require(path.status == 0, "\(path.output)")
        let kubeconfig = path.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let scratch = NSTemporaryDirectory() + "fl-kubectl-\(cluster)-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let kube = Kubectl(kubeconfig: kubeconfig, home: scratch + "/home", cacheDirectory: scratch + "/cache")
        let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        let server = try #require(text.split(separator: "\n").first { $0.contains("server: http://") }?
            .split(separator: "//").last.map(String.init))
        let endpoint = try Endpoint(parsing: server)

        // k8s-apiserver.yaml runs on `fast`, whose pod_eviction_timeout (30s) the apiservers give pods.
        try kubectlTranscript(kube, tolerationSeconds: 30) { method, path, body, type in
            try HTTPClient(endpoint: endpoint).request(method, path, body: Array(body.utf8), timeout: 5 * 1_000_000_000, contentType: type).status
        }

        // The second apiserver sees what the first wrote.
        let second = kube.on(context: "faultline-\(cluster)-apiserver-2")
        #expect(try second.ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "5")
        // Kill apiserver-1: its context fails, the other serves.
        #expect(cli(["fault", "kill", "apiserver-1", "-c", cluster]).status == 0)
        #expect(try kube(["get", "ns", "--request-timeout=3s"]).status != 0)
        #expect(try second.ok("get", "ns").contains("kube-system"))
        // Isolate etcd-1 (first in every apiserver's list): reads and writes move to the others.
        #expect(cli(["fault", "isolate", "etcd-1", "-c", cluster]).status == 0)
        var created = false
        let deadline = Date().addingTimeInterval(30)
        while !created && Date() < deadline {
            // `create -f` (JSON), not `create configmap`: kubectl's generators send protobuf bodies.
            created = try second(["create", "-f", "-", "--request-timeout=10s"],
                input: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"during-isolation"},"data":{"k":"v"}}"#).status == 0
        }
        #expect(created, "no write succeeded through apiserver-2 within 30 s of isolating etcd-1")
        #expect(try second.ok("get", "configmap", "during-isolation", "-o", "jsonpath={.data.k}") == "v")
    }
}
