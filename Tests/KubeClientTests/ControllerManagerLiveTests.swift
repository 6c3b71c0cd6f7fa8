//! The controller-manager's Endpoints, garbage-collector and namespace controllers against a
//! live apiserver, with a hollow kubelet (pods get IPs and finish their graceful deletion) and a
//! scheduler, all in this process on loopback with short periods:
//!
//! - a Service with a selector gets an Endpoints object of its name listing its pods' IPs (one
//!   without a selector gets none);
//! - deleting a ReplicaSet the default way (background) removes its pods through the garbage
//!   collector; a foreground delete finishes once its pods are gone;
//! - deleting a namespace empties it, then the namespace itself disappears; `default` cannot be
//!   deleted.

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeComponents
import KubeControllers
import KubeNode
import Testing
import Wire

@Suite(.serialized) struct ControllerManagerLiveTests {
    static let pods = APIResource.standard("pods")
    static let replicaSets = APIResource.standard("replicasets", group: "apps")
    static let services = APIResource.standard("services")
    static let endpoints = APIResource.standard("endpoints")
    static let namespaces = APIResource.standard("namespaces")
    static let configMaps = APIResource.standard("configmaps")

    func settings(_ cluster: LiveCluster, _ identity: String) -> ComponentSettings {
        var settings = ComponentSettings(apiservers: cluster.urls, identity: identity, log: { _ in })
        settings.leaderElect = false
        return settings
    }

    static func replicaSet(_ name: String, replicas: Int, namespace: String = "default") -> JSONValue {
        try! JSON.parse(#"""
            {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},
             "spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"\#(name)"}},
              "template":{"metadata":{"labels":{"app":"\#(name)"}},
               "spec":{"containers":[{"name":"app","image":"app","ports":[{"name":"http","containerPort":8080}]}]}}}}
            """#)
    }

    static func service(_ name: String, selector: String?, namespace: String = "default") -> JSONValue {
        let selectorField = selector.map { #","selector":{"app":"\#($0)"}"# } ?? ""
        return try! JSON.parse(#"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},
             "spec":{"ports":[{"name":"web","port":80,"targetPort":"http"}]\#(selectorField)}}
            """#)
    }

    func pods(_ client: APIClient, app: String, namespace: String = "default") throws -> [JSONValue] {
        try client.list(Self.pods, namespace: namespace, labelSelector: "app=\(app)").items
    }

    func runningIPs(_ client: APIClient, app: String) throws -> Set<String> {
        Set(try pods(client, app: app).filter { $0.stringMember("status", "phase") == "Running" }.compactMap { $0.stringMember("status", "podIP") })
    }

    func endpointIPs(_ client: APIClient, _ name: String) throws -> Set<String> {
        let object = try client.get(ObjectReference(Self.endpoints, namespace: "default", name: name))
        return Set(object.arrayMember("subsets").flatMap { $0.arrayMember("addresses") }.compactMap { $0.stringMember("ip") })
    }

    /// Whether the apiserver answers 404 for `reference`.
    func isGone(_ client: APIClient, _ reference: ObjectReference) -> Bool {
        if case .failure(let error) = Result(catching: { () throws(APIError) in try client.get(reference) }) { return error.isNotFound }
        return false
    }

    @Test func endpointsFollowPodsAndDeletionsCascadeThroughTheCollectorAndTheNamespaceController() throws {
        let cluster = try LiveCluster(basePort: 23220)
        defer { cluster.stop() }
        let client = try cluster.client()
        var configuration = ControllerManagerConfiguration()
        configuration.garbageCollector.absentOwnerConfirmation = Time.second
        configuration.garbageCollector.retryDelayMin = 200 * Time.millisecond
        configuration.namespaces = NamespaceController.Configuration(recheckInterval: 300 * Time.millisecond)
        configuration.namespaceSyncSpacing = 50 * Time.millisecond
        let manager = ControllerManagerDaemon(settings: settings(cluster, "cm"), configuration: configuration)
        let scheduler = SchedulerDaemon(settings: settings(cluster, "sched"), seed: 1)
        var kubeletConfiguration = KubeletConfiguration(nodes: [NodeIdentity(name: "w1", internalIP: "10.0.0.1", podCIDR: "10.244.1.0/24")])
        kubeletConfiguration.nodeStatusUpdateFrequency = Time.second
        let kubelet = KubeletDaemon(settings: settings(cluster, "w1"), configuration: kubeletConfiguration)
        defer {
            kubelet.stop()
            scheduler.stop()
            manager.stop()
        }
        try kubelet.start()
        try scheduler.start()
        try manager.start()
        try waitUntil(20, "node w1 Ready") { try client.list(.standard("nodes")).items.filter(NodeConditions.isReady).count == 1 }

        // Endpoints: the ready pods' IPs under the Service's name; none for a Service without a selector.
        _ = try client.create(Self.replicaSets, namespace: "default", object: Self.replicaSet("web", replicas: 2))
        _ = try client.create(Self.services, namespace: "default", object: Self.service("web", selector: "web"))
        _ = try client.create(Self.services, namespace: "default", object: Self.service("manual", selector: nil))
        try waitUntil(15, "2 web pods running with IPs") { try runningIPs(client, app: "web").count == 2 }
        let ips = try runningIPs(client, app: "web")
        try waitUntil(5, "Endpoints web lists \(ips)") { try endpointIPs(client, "web") == ips }
        let webEndpoints = try client.get(ObjectReference(Self.endpoints, namespace: "default", name: "web"))
        #expect(webEndpoints.arrayMember("subsets").first?.arrayMember("ports").first
            == (try JSON.parse(#"{"name":"web","port":8080,"protocol":"TCP"}"#)), "the named target port resolves to the container's")

        // Background delete (kubectl's default): the ReplicaSet goes at once, the collector deletes its pods.
        _ = try client.delete(ObjectReference(Self.replicaSets, namespace: "default", name: "web"))
        try waitUntil(10, "the web pods collected") { try pods(client, app: "web").isEmpty }
        try waitUntil(5, "Endpoints web emptied") { try endpointIPs(client, "web").isEmpty }

        // Foreground: the ReplicaSet waits, marked, until the collector has deleted its pods.
        _ = try client.create(Self.replicaSets, namespace: "default", object: Self.replicaSet("front", replicas: 1))
        try waitUntil(15, "the front pod running") { try runningIPs(client, app: "front").count == 1 }
        let front = ObjectReference(Self.replicaSets, namespace: "default", name: "front")
        _ = try client.delete(front, options: DeleteOptions(propagationPolicy: "Foreground"))
        try waitUntil(10, "the foreground delete finished") { isGone(client, front) }
        #expect(try pods(client, app: "front").isEmpty, "a foreground delete finishes only after the dependents are gone")
        let manual = Result { () throws(APIError) in try client.get(ObjectReference(Self.endpoints, namespace: "default", name: "manual")) }
        if case .failure(let error) = manual { #expect(error.isNotFound) } else { Issue.record("a Service without a selector got Endpoints") }

        // A namespace: emptied (pods with their grace, through the kubelet), then finalized and gone.
        _ = try client.create(Self.namespaces, namespace: nil, object: try JSON.parse(#"{"metadata":{"name":"shop"}}"#))
        _ = try client.create(Self.replicaSets, namespace: "shop", object: Self.replicaSet("cart", replicas: 2, namespace: "shop"))
        _ = try client.create(Self.services, namespace: "shop", object: Self.service("cart", selector: "cart", namespace: "shop"))
        _ = try client.create(Self.configMaps, namespace: "shop", object: try JSON.parse(#"{"metadata":{"name":"settings"},"data":{"a":"b"}}"#))
        try waitUntil(15, "the cart pods running") {
            try pods(client, app: "cart", namespace: "shop").filter { $0.stringMember("status", "phase") == "Running" }.count == 2
        }
        try waitUntil(5, "Endpoints shop/cart") {
            try client.get(ObjectReference(Self.endpoints, namespace: "shop", name: "cart")).arrayMember("subsets").count == 1
        }
        let shop = ObjectReference(Self.namespaces, namespace: nil, name: "shop")
        _ = try client.delete(shop)
        let terminating = try client.get(shop)
        #expect(terminating.stringMember("status", "phase") == "Terminating")
        let refused = Result { () throws(APIError) in
            try client.create(Self.configMaps, namespace: "shop", object: try! JSON.parse(#"{"metadata":{"name":"late"}}"#))
        }
        if case .failure(let error) = refused { #expect(error.code == 403, "\(error)") } else { Issue.record("a create in a Terminating namespace was taken") }
        try waitUntil(15, "namespace shop gone") { isGone(client, shop) }
        for resource in NamespaceController.contentResources {
            #expect(try client.list(resource, namespace: "shop").items.isEmpty, "\(resource.qualifiedName) left in the deleted namespace")
        }

        // The system namespaces stay.
        let protected = Result { () throws(APIError) in try client.delete(ObjectReference(Self.namespaces, namespace: nil, name: "default")) }
        if case .failure(let error) = protected {
            #expect(error.code == 403 && error.message.contains("this namespace may not be deleted"), "\(error)")
        } else {
            Issue.record("namespace default was deleted")
        }
    }
}
