//! kube-proxy on loopback against a store member and an apiserver in this process whose Service
//! range is 127.97.0.0/16 (addresses any process may bind without root), with a process-mode
//! kubelet (pods are real echo servers on 127.245.3.x) and a controller-manager writing the
//! Endpoints:
//!
//! - a ReplicaSet of two nginx pods behind a Service: GETs to ClusterIP:port reach both pods in
//!   turn (round robin);
//! - with sessionAffinity ClientIP every GET from one client address reaches the same pod, and
//!   two client addresses are spread over both;
//! - scaled to 0: nothing listens at ClusterIP:port, so a connect is refused; scaled back to 1,
//!   it answers again; the Service deleted: no listener.
//!
//! It runs the `faultline` executable the build made (the containers), and is skipped when there
//! is none.

import Base
import Foundation
import Glibc
import KubeAPI
import KubeClient
import KubeComponents
import KubeControllers
import KubeNode
import Net
import Testing
import Wire

@Suite(.serialized) struct KubeProxyLiveTests {
    static let node = "kp1"
    static let replicaSets = APIResource.standard("replicasets", group: "apps")
    static let services = APIResource.standard("services")

    static let replicaSet = try! JSON.parse(#"""
        {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"echo","namespace":"default"},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"echo"}},
          "template":{"metadata":{"labels":{"app":"echo"}},
           "spec":{"nodeName":"kp1","terminationGracePeriodSeconds":2,
            "containers":[{"name":"app","image":"nginx","ports":[{"name":"http","containerPort":8080}]}]}}}}
        """#)

    static let service = try! JSON.parse(#"""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"echo","namespace":"default"},
         "spec":{"selector":{"app":"echo"},"ports":[{"name":"web","port":7080,"targetPort":"http"}]}}
        """#)

    /// One `GET /` over a fresh connection from `source`: the body (the pod's name), or the error.
    static func get(_ target: Endpoint, from source: String = "127.0.0.1") -> Result<String, NetError> {
        let fd: Int32
        do throws(NetError) { fd = try Socket.connect(target, from: source, timeout: Time.second) } catch { return .failure(error) }
        defer { close(fd) }
        Socket.setReceiveTimeout(fd, 2 * Time.second)
        guard Socket.sendAll(fd, Array("GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n".utf8)) else {
            return .failure(NetError("send to \(target) failed"))
        }
        var answer: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        reading: while answer.count < 1 << 16 {
            switch Socket.receive(fd, into: buffer) {
            case .data(let count): answer += buffer[..<count]
            case .closed: break reading
            case .timedOut: return .failure(NetError("no answer from \(target) within 2 s"))
            case .failed(let code): return .failure(NetError("reading from \(target): errno \(code)"))
            }
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200"), let split = text.range(of: "\r\n\r\n") else {
            return .failure(NetError("unexpected answer: \(text)"))
        }
        return .success(text[split.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func isRefused(_ result: Result<String, NetError>) -> Bool {
        if case .failure(let error) = result { return error.message.contains("Connection refused") }
        return false
    }

    @Test(.enabled(if: ProcessKubeletLiveTests.executable != nil, "no faultline executable built"))
    func clusterIPsBalanceAcrossReadyPodsKeepAffinityAndRefuseWithoutEndpoints() throws {
        let cluster = try LiveCluster(basePort: 23240, serviceClusterIPRange: "127.97.0.0/16")
        defer { cluster.stop() }
        let root = NSTemporaryDirectory() + "faultline-kube-proxy-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        func settings(_ identity: String) -> ComponentSettings {
            // KUBE_PROXY_TEST_LOG=1 shows the components' logs.
            let verbose = ProcessInfo.processInfo.environment["KUBE_PROXY_TEST_LOG"] != nil
            var settings = ComponentSettings(apiservers: cluster.urls, identity: identity, log: { line in
                if verbose { FileHandle.standardError.write(Data("\(Date()) \(identity): \(line)\n".utf8)) }
            })
            settings.leaderElect = false
            return settings
        }
        var kubeletConfiguration = KubeletConfiguration(nodes: [NodeIdentity(name: Self.node, internalIP: "127.0.0.1", podCIDR: "127.245.3.0/24")])
        kubeletConfiguration.nodeStatusUpdateFrequency = Time.second
        kubeletConfiguration.processRuntime = ProcessRuntimeSettings(rootDirectory: root, executable: ProcessKubeletLiveTests.executable!)
        let kubelet = KubeletDaemon(settings: settings(Self.node), configuration: kubeletConfiguration)
        let manager = ControllerManagerDaemon(settings: settings("cm"), configuration: ControllerManagerConfiguration())
        let proxy = KubeProxyDaemon(settings: settings("proxy"), configuration: KubeProxyConfiguration(nodeName: Self.node))
        defer {
            proxy.stop()
            manager.stop()
            kubelet.stop()
            kubelet.killContainers()
        }
        try kubelet.start()
        try manager.start()
        try proxy.start()
        let client = try cluster.client()

        // Two echo pods behind a Service: both answer through the ClusterIP, in turn.
        _ = try client.create(Self.replicaSets, namespace: "default", object: Self.replicaSet)
        let created = try client.create(Self.services, namespace: "default", object: Self.service)
        let clusterIP = try #require(created.stringMember("spec", "clusterIP"))
        #expect(clusterIP.hasPrefix("127.97."), "the Service's address comes from the configured range: \(clusterIP)")
        #expect(clusterIP != "127.97.0.1", "the range's first address is the kubernetes Service's")
        // The apiserver's own `kubernetes` Service (127.97.0.1:443) is proxied too; what follows
        // is about the echo Service's listener alone.
        let echoListeners = { proxy.listening.filter { $0.ip == clusterIP } }
        let target = Endpoint(host: clusterIP, port: 7080)
        try waitUntil(20, "both pods answering through \(target)") {
            Set((0..<4).compactMap { _ in try? Self.get(target).get() }).count == 2
        }
        let answers = try (0..<20).map { _ in try Self.get(target).get() }
        let pods = Set(answers)
        #expect(pods.count == 2 && pods.allSatisfy { $0.hasPrefix("echo-") }, "\(answers)")
        #expect(zip(answers, answers.dropFirst()).allSatisfy { $0 != $1 }, "round robin alternates: \(answers)")
        #expect(echoListeners() == [ServiceAddress(ip: clusterIP, port: 7080)])

        // ClientIP affinity: one client address always reaches one pod; two are spread.
        let serviceReference = ObjectReference(Self.services, namespace: "default", name: "echo")
        _ = try client.mergePatch(serviceReference, patch: try JSON.parse(#"{"spec":{"sessionAffinity":"ClientIP"}}"#))
        try waitUntil(5, "ClientIP affinity applied") {
            Set((0..<4).compactMap { _ in try? Self.get(target, from: "127.0.0.31").get() }).count == 1
        }
        let first = try (0..<10).map { _ in try Self.get(target, from: "127.0.0.31").get() }
        let second = try (0..<10).map { _ in try Self.get(target, from: "127.0.0.32").get() }
        #expect(Set(first).count == 1 && Set(second).count == 1, "\(first) \(second)")
        #expect(first[0] != second[0], "two clients take turns for their first connection")

        // No ready endpoint: nothing listens, the connect is refused. One again: it answers.
        let replicaSetReference = ObjectReference(Self.replicaSets, namespace: "default", name: "echo")
        _ = try client.mergePatch(replicaSetReference, patch: try JSON.parse(#"{"spec":{"replicas":0}}"#))
        try waitUntil(15, "connections to \(target) refused") { Self.isRefused(Self.get(target)) }
        #expect(echoListeners().isEmpty)
        // The old pods gone first: a new pod may get a freed address, and its server could not
        // bind it while a terminating container still holds it.
        try waitUntil(15, "the echo pods gone") { try client.list(.standard("pods"), namespace: "default", labelSelector: "app=echo").items.isEmpty }
        _ = try client.mergePatch(replicaSetReference, patch: try JSON.parse(#"{"spec":{"replicas":1}}"#))
        do {
            try waitUntil(15, "\(target) answering again") { (try? Self.get(target).get())?.hasPrefix("echo-") == true }
        } catch {
            // What the cluster looks like then, for the failure report.
            let pods = (try? client.list(.standard("pods"), namespace: "default", labelSelector: "app=echo").items) ?? []
            let endpoints = try? client.get(ObjectReference(.standard("endpoints"), namespace: "default", name: "echo"))
            var podsText: [UInt8] = [], endpointsText: [UInt8] = []
            JSON.append(.array(pods.map { $0.member("status") ?? .null }), to: &podsText)
            if let endpoints { JSON.append(endpoints, to: &endpointsText) }
            Issue.record("pods' status: \(String(decoding: podsText, as: UTF8.self))\nendpoints: \(String(decoding: endpointsText, as: UTF8.self))")
            throw error
        }

        // The Service deleted: its listener closes.
        _ = try client.delete(serviceReference)
        try waitUntil(5, "the listener closed with its Service") { echoListeners().isEmpty && Self.isRefused(Self.get(target)) }
    }
}
