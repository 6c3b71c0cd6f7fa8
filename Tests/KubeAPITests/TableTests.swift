//! TableTests: the exact cells `kubectl get` shows for representative objects (a running pod, a
//! crash-looping one with restarts, a terminating one, a completed one; a cordoned control-plane
//! node; deployments, replica sets, services, endpoints, events...), the columns and priorities,
//! and the Table's shape (row objects as PartialObjectMetadata or whole objects).

import Testing
import Wire
import KubeAPI

/// "Now" for every row: 2025-01-10T12:00:00Z.
private let now: Int64 = 1_736_510_400

/// The timestamp `seconds` before now.
private func ago(_ seconds: Int64) -> String { KubeTime.format(now - seconds) }

private func resource(_ plural: String, group: String = "") -> APIResource {
    ResourceRegistry.standard.resources.first { $0.plural == plural && $0.group == group }!
}

/// The cells of `object`'s row.
private func cells(_ plural: String, group: String = "", _ object: JSONValue) -> [JSONValue] {
    let table = KubeAPI.table(resource: resource(plural, group: group), objects: [object], now: now, includeObject: false, listResourceVersion: "1")
    return valueAt(table, "rows")?.asArrayForTest?.first.flatMap { valueAt($0, "cells")?.asArrayForTest } ?? []
}

private func strings(_ values: String...) -> [JSONValue] { values.map(JSONValue.string) }

/// A pod on node1 created `age` seconds ago, with `status` members added.
private func pod(_ name: String, age: Int64, spec: String = #""containers":[{"name":"web","image":"nginx"}]"#, status: String, metadata: String = "")
    -> JSONValue
{
    parsedObject("""
        {"metadata":{"name":"\(name)","namespace":"default","uid":"uid-\(name)","creationTimestamp":"\(ago(age))"\(metadata)},
         "spec":{"nodeName":"node1",\(spec)},"status":{\(status)}}
        """)
}

private let runningStatus = """
    "phase":"Running","podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"}],
    "conditions":[{"type":"Ready","status":"True"}],
    "containerStatuses":[{"name":"web","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":"2025-01-10T11:55:00Z"}}}]
    """

@Suite struct PodTableTests {
    @Test func runningPod() {
        #expect(cells("pods", pod("web-1", age: 300, status: runningStatus))
            == strings("web-1", "1/1", "Running", "0", "5m", "10.244.1.5", "node1", "<none>", "<none>"))
    }

    @Test func crashLoopingPodShowsRestartsAndWhenTheLastWas() {
        let crashy = pod("crashy", age: 3600, status: """
            "phase":"Running","podIP":"10.244.1.6",
            "containerStatuses":[{"name":"web","ready":false,"restartCount":5,
              "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 2m40s restarting failed container"}},
              "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"\(ago(120))"}}}]
            """)
        #expect(cells("pods", crashy) == strings("crashy", "0/1", "CrashLoopBackOff", "5 (2m ago)", "60m", "10.244.1.6", "node1", "<none>", "<none>"))
    }

    @Test func deletedPodIsTerminating() {
        let terminating = pod("web-2", age: 600, status: runningStatus, metadata: #","deletionTimestamp":"\#(ago(5))","deletionGracePeriodSeconds":30"#)
        #expect(cells("pods", terminating) == strings("web-2", "1/1", "Terminating", "0", "10m", "10.244.1.5", "node1", "<none>", "<none>"))
    }

    @Test func finishedPodIsCompletedAndMarkedSo() {
        let done = pod("job-x", age: 86_400 * 2 + 3600, status: """
            "phase":"Succeeded","conditions":[{"type":"Ready","status":"False","reason":"PodCompleted"}],
            "containerStatuses":[{"name":"web","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]
            """)
        #expect(cells("pods", done) == strings("job-x", "0/1", "Completed", "0", "2d1h", "<none>", "node1", "<none>", "<none>"))
        let table = KubeAPI.table(resource: resource("pods"), objects: [done], now: now, includeObject: false, listResourceVersion: "9")
        #expect(valueAt(table, "rows")?.asArrayForTest?.first.flatMap { valueAt($0, "conditions") } == parsedObject("""
            [{"type":"Completed","status":"True","reason":"Succeeded","message":"The pod has completed successfully."}]
            """))
        // A terminal pod stays Completed even while being deleted.
        let deleted = pod("job-x", age: 60, status: #""phase":"Succeeded","containerStatuses":[{"name":"web","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]"#,
            metadata: #","deletionTimestamp":"\#(ago(1))""#)
        #expect(cells("pods", deleted)[2] == .string("Completed"))
    }

    @Test func waitingReasonsAndPendingPods() {
        let creating = pod("new", age: 10, status: """
            "phase":"Pending","containerStatuses":[{"name":"web","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}}]
            """)
        #expect(cells("pods", creating) == strings("new", "0/1", "ContainerCreating", "0", "10s", "<none>", "node1", "<none>", "<none>"))
        let pulling = pod("bad-image", age: 190, status: """
            "phase":"Pending","containerStatuses":[{"name":"web","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ImagePullBackOff"}}}]
            """)
        #expect(Array(cells("pods", pulling)[2...4]) == strings("ImagePullBackOff", "0", "3m10s"))
        let unscheduled = parsedObject(#"{"metadata":{"name":"pending","creationTimestamp":"\#(ago(45))"},"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{"phase":"Pending"}}"#)
        #expect(cells("pods", unscheduled) == strings("pending", "0/2", "Pending", "0", "45s", "<none>", "<none>", "<none>", "<none>"))
    }

    @Test func initContainersAndReadinessGates() {
        let initializing = pod("init", age: 30, spec: """
            "initContainers":[{"name":"setup","image":"busybox"}],"containers":[{"name":"web","image":"nginx"}],
            "readinessGates":[{"conditionType":"example.com/lb"},{"conditionType":"example.com/dns"}]
            """, status: """
            "phase":"Pending","conditions":[{"type":"example.com/lb","status":"True"},{"type":"example.com/dns","status":"False"}],
            "initContainerStatuses":[{"name":"setup","ready":false,"restartCount":0,"state":{"running":{}}}],
            "containerStatuses":[{"name":"web","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]
            """)
        #expect(cells("pods", initializing) == strings("init", "0/1", "Init:0/1", "0", "30s", "<none>", "node1", "<none>", "1/2"))
    }

    @Test func podWithoutCreationTimestampHasUnknownAge() {
        #expect(cells("pods", parsedObject(#"{"metadata":{"name":"x"},"spec":{"containers":[]}}"#))[4] == .string("<unknown>"))
    }
}

@Suite struct ClusterTableTests {
    @Test func cordonedControlPlaneNode() {
        let node = parsedObject("""
            {"metadata":{"name":"cp1","creationTimestamp":"\(ago(3 * 86_400))","labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/hostname":"cp1"}},
             "spec":{"unschedulable":true},
             "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
               "addresses":[{"type":"InternalIP","address":"172.18.0.2"},{"type":"Hostname","address":"cp1"}],
               "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0-18-amd64",
                 "containerRuntimeVersion":"containerd://1.7.13"}}}
            """)
        #expect(cells("nodes", node) == strings(
            "cp1", "Ready,SchedulingDisabled", "control-plane", "3d", "v1.32.0", "172.18.0.2", "<none>",
            "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.13"))
    }

    @Test func nodeStatusesAndRoles() {
        let notReady = parsedObject("""
            {"metadata":{"name":"w1","creationTimestamp":"\(ago(7200))","labels":{"node-role.kubernetes.io/worker":"","node-role.kubernetes.io/etcd":"","kubernetes.io/role":"edge"}},
             "status":{"conditions":[{"type":"Ready","status":"Unknown"}],"addresses":[{"type":"ExternalIP","address":"203.0.113.7"}]}}
            """)
        #expect(cells("nodes", notReady) == strings("w1", "NotReady", "edge,etcd,worker", "120m", "", "<none>", "203.0.113.7", "<unknown>", "<unknown>", "<unknown>"))
        let silent = parsedObject(#"{"metadata":{"name":"w2","creationTimestamp":"\#(ago(5 * 3600 + 600))"}}"#)
        #expect(Array(cells("nodes", silent)[0...3]) == strings("w2", "Unknown", "<none>", "5h10m"))
    }

    @Test func namespacesEventsLeasesAndConfig() {
        let namespace = parsedObject(#"{"metadata":{"name":"default","creationTimestamp":"\#(ago(9 * 86_400))"},"status":{"phase":"Active"}}"#)
        #expect(cells("namespaces", namespace) == strings("default", "Active", "9d"))

        let event = parsedObject("""
            {"metadata":{"name":"crashy.17a","namespace":"default"},"type":"Warning","reason":"BackOff","count":7,
             "involvedObject":{"kind":"Pod","name":"crashy","namespace":"default","fieldPath":"spec.containers{web}"},
             "source":{"component":"kubelet","host":"node1"},"message":"Back-off restarting failed container\\n",
             "firstTimestamp":"\(ago(7200))","lastTimestamp":"\(ago(45))"}
            """)
        #expect(cells("events", event) == [
            .string("45s"), .string("Warning"), .string("BackOff"), .string("pod/crashy"), .string("spec.containers{web}"),
            .string("kubelet, node1"), .string("Back-off restarting failed container"), .string("120m"), .integer(7), .string("crashy.17a"),
        ])
        let newStyle = parsedObject("""
            {"metadata":{"name":"n.1"},"type":"Normal","reason":"Scheduled","involvedObject":{"kind":"Node"},
             "eventTime":"\(ago(10).dropLast()).000000Z","reportingComponent":"default-scheduler","reportingInstance":"sched-1"}
            """)
        #expect(cells("events", newStyle) == [
            .string("10s"), .string("Normal"), .string("Scheduled"), .string("node"), .string(""),
            .string("default-scheduler, sched-1"), .string(""), .string("10s"), .integer(1), .string("n.1"),
        ])

        let lease = parsedObject(#"{"metadata":{"name":"node1","creationTimestamp":"\#(ago(60))"},"spec":{"holderIdentity":"node1"}}"#)
        #expect(cells("leases", group: "coordination.k8s.io", lease) == strings("node1", "node1", "60s"))
        let configMap = parsedObject(#"{"metadata":{"name":"cfg","creationTimestamp":"\#(ago(60))"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}}"#)
        #expect(cells("configmaps", configMap) == [.string("cfg"), .integer(3), .string("60s")])
        let secret = parsedObject(#"{"metadata":{"name":"s","creationTimestamp":"\#(ago(60))"},"type":"Opaque","data":{"a":"MQ==","b":"Mg=="}}"#)
        #expect(cells("secrets", secret) == [.string("s"), .string("Opaque"), .integer(2), .string("60s")])
        let account = parsedObject(#"{"metadata":{"name":"default","creationTimestamp":"\#(ago(60))"}}"#)
        #expect(cells("serviceaccounts", account) == [.string("default"), .integer(0), .string("60s")])
    }
}

@Suite struct WorkloadTableTests {
    @Test func deploymentRow() {
        let deployment = parsedObject("""
            {"metadata":{"name":"web","creationTimestamp":"\(ago(600))"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"},{"name":"log","image":"busybox"}]}}},
             "status":{"replicas":3,"updatedReplicas":3,"readyReplicas":2,"availableReplicas":2}}
            """)
        #expect(cells("deployments", group: "apps", deployment) == [
            .string("web"), .string("2/3"), .integer(3), .integer(2), .string("10m"),
            .string("nginx,log"), .string("nginx:1.27,busybox"), .string("app=web"),
        ])
        let fresh = parsedObject("""
            {"metadata":{"name":"api"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"},
             "matchExpressions":[{"key":"tier","operator":"In","values":["front","edge"]},{"key":"canary","operator":"DoesNotExist"}]}}}
            """)
        #expect(cells("deployments", group: "apps", fresh) == [
            .string("api"), .string("0/2"), .integer(0), .integer(0), .string("<unknown>"), .string(""), .string(""),
            .string("app=api,!canary,tier in (edge,front)"),
        ])
    }

    @Test func replicaSetRow() {
        let replicaSet = parsedObject("""
            {"metadata":{"name":"web-5d9c8f","creationTimestamp":"\(ago(600))"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web","pod-template-hash":"5d9c8f"}},
               "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}},
             "status":{"replicas":3,"readyReplicas":2}}
            """)
        #expect(cells("replicasets", group: "apps", replicaSet) == [
            .string("web-5d9c8f"), .integer(3), .integer(3), .integer(2), .string("10m"),
            .string("nginx"), .string("nginx:1.27"), .string("app=web,pod-template-hash=5d9c8f"),
        ])
        let bare = parsedObject(#"{"metadata":{"name":"rs"},"spec":{"selector":{}}}"#)
        #expect(cells("replicasets", group: "apps", bare).last == .string("<none>"))
    }

    @Test func otherResourcesGetNameAndCreation() {
        let statefulSet = parsedObject(#"{"metadata":{"name":"db","creationTimestamp":"2025-01-01T00:00:00Z"}}"#)
        #expect(KubeAPI.tableColumns(resource: resource("statefulsets", group: "apps")).map(\.name) == ["Name", "Created At"])
        #expect(cells("statefulsets", group: "apps", statefulSet) == strings("db", "2025-01-01T00:00:00Z"))
    }
}

@Suite struct ServiceTableTests {
    private func service(_ spec: String, status: String = "{}") -> JSONValue {
        parsedObject(#"{"metadata":{"name":"web","creationTimestamp":"\#(ago(3600))"},"spec":{\#(spec)},"status":\#(status)}"#)
    }

    @Test func serviceRows() {
        #expect(cells("services", service(#""type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ports":[{"port":80,"protocol":"TCP","targetPort":8080}],"selector":{"tier":"front","app":"web"}"#))
            == strings("web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "60m", "app=web,tier=front"))
        #expect(cells("services", service(#""type":"NodePort","clusterIP":"10.96.0.11","ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"nodePort":30053,"protocol":"UDP"}]"#))
            == strings("web", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53:30053/UDP", "60m", "<none>"))
        #expect(cells("services", service(#""type":"LoadBalancer","clusterIP":"10.96.0.12","ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]"#))[3]
            == .string("<pending>"))
        #expect(cells("services", service(#""type":"LoadBalancer","clusterIP":"10.96.0.12","ports":[{"port":443,"protocol":"TCP"}]"#,
            status: #"{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"},{"hostname":"lb.example.com"}]}}"#))[3]
            == .string("203.0.113.10,lb.example.com"))
        #expect(cells("services", service(#""type":"ExternalName","externalName":"db.example.com""#))
            == strings("web", "ExternalName", "<none>", "db.example.com", "<none>", "60m", "<none>"))
    }

    @Test func endpointsRows() {
        let endpoints = parsedObject("""
            {"metadata":{"name":"web","creationTimestamp":"\(ago(30))"},"subsets":[
              {"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"ports":[{"port":80}]},
              {"addresses":[{"ip":"10.0.0.3"},{"ip":"fd00::4"}],"ports":[{"port":8080}]}]}
            """)
        #expect(cells("endpoints", endpoints) == strings("web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 1 more...", "30s"))
        let ipv6 = parsedObject(#"{"metadata":{"name":"v6"},"subsets":[{"addresses":[{"ip":"fd00::4"}],"ports":[{"port":8080}]}]}"#)
        #expect(cells("endpoints", ipv6)[1] == .string("[fd00::4]:8080"))
        #expect(cells("endpoints", parsedObject(#"{"metadata":{"name":"none"}}"#))[1] == .string("<none>"))
    }
}

@Suite struct TableShapeTests {
    @Test func podColumnsAndPriorities() {
        let columns = KubeAPI.tableColumns(resource: resource("pods"))
        #expect(columns.map(\.name) == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
        #expect(columns.map(\.priority) == [0, 0, 0, 0, 0, 1, 1, 1, 1])
        #expect(columns.first?.format == "name")
        let nodes = KubeAPI.tableColumns(resource: resource("nodes"))
        #expect(nodes.filter { $0.priority == 0 }.map(\.name) == ["Name", "Status", "Roles", "Age", "Version"])
        #expect(nodes.filter { $0.priority == 1 }.map(\.name) == ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"])
        let deployments = KubeAPI.tableColumns(resource: resource("deployments", group: "apps"))
        #expect(deployments.filter { $0.priority == 0 }.map(\.name) == ["Name", "Ready", "Up-to-date", "Available", "Age"])
        let services = KubeAPI.tableColumns(resource: resource("services"))
        #expect(services.map(\.name) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"])
        let events = KubeAPI.tableColumns(resource: resource("events"))
        #expect(events.filter { $0.priority == 0 }.map(\.name) == ["Last Seen", "Type", "Reason", "Object", "Message"])
    }

    @Test func tableCarriesMetadataOrWholeObjects() {
        let first = pod("web-1", age: 300, status: runningStatus)
        let table = KubeAPI.table(resource: resource("pods"), objects: [first, first], now: now, includeObject: false, listResourceVersion: "42")
        #expect(valueAt(table, "kind") == .string("Table"))
        #expect(valueAt(table, "apiVersion") == .string("meta.k8s.io/v1"))
        #expect(valueAt(table, "metadata") == parsedObject(#"{"resourceVersion":"42"}"#))
        #expect(valueAt(table, "columnDefinitions")?.asArrayForTest?.first == parsedObject("""
            {"name":"Name","type":"string","format":"name","description":"The object's name, unique within its namespace for a kind.","priority":0}
            """))
        let rows = valueAt(table, "rows")?.asArrayForTest ?? []
        #expect(rows.count == 2)
        #expect(valueAt(rows.first, "object") == .object([
            "kind": .string("PartialObjectMetadata"), "apiVersion": .string("meta.k8s.io/v1"), "metadata": valueAt(first, "metadata")!,
        ]))
        #expect(valueAt(rows.first, "conditions") == nil)

        let whole = KubeAPI.table(resource: resource("pods"), objects: [first], now: now, includeObject: true, listResourceVersion: "42")
        let object = valueAt(whole, "rows")?.asArrayForTest?.first.flatMap { valueAt($0, "object") }
        #expect(valueAt(object, "kind") == .string("Pod"))
        #expect(valueAt(object, "apiVersion") == .string("v1"))
        #expect(valueAt(object, "status") == valueAt(first, "status"))

        let empty = KubeAPI.table(resource: resource("pods"), objects: [], now: now, includeObject: false, listResourceVersion: "7")
        #expect(valueAt(empty, "rows") == .array([]))
    }
}
