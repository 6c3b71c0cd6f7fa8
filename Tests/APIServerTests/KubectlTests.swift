//! Real kubectl (v1.32) against our apiserver, on our store and on real etcd 3.4: the commands
//! of issue 6's acceptance, with output compared to what a real cluster prints (columns,
//! messages, exit codes). Serialized: each case starts its own store and apiserver.

import Foundation
import Testing

private let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx:1.27
            ports:
            - containerPort: 80
    """

private let node = """
    apiVersion: v1
    kind: Node
    metadata:
      name: node-1
      labels: {kubernetes.io/hostname: node-1, node-role.kubernetes.io/control-plane: ""}
    status:
      nodeInfo: {kubeletVersion: v1.32.0}
      conditions:
      - {type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}
    """

/// Lines of `kubectl get` output as columns (runs of two or more spaces separate them).
private func rows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { line in
        line.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// The transcript: every command of the acceptance, with what a real cluster prints. `raw`
/// sends what kubectl never sends (malformed JSON, a wrong Content-Type).
/// `tolerationSeconds`: what the apiserver under test gives pods (`--default-…-toleration-seconds`).
func kubectlTranscript(_ kube: Kubectl, tolerationSeconds: Int64 = 300, raw: (String, String, String, String) throws -> Int) throws {

    // version and discovery
    #expect(try kube.ok("version").contains("Server Version: v1.32.0"))
    let resources = try kube.ok("api-resources")
    for line in ["pods", "po", "v1", "true", "Pod"] { #expect(resources.contains(line)) }
    #expect(rows(resources).contains(["deployments", "deploy", "apps/v1", "true", "Deployment"]), "\(resources)")

    // namespaces the server creates
    let namespaces = rows(try kube.ok("get", "ns"))
    #expect(namespaces.first == ["NAME", "STATUS", "AGE"])
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        #expect(namespaces.contains { $0.first == name && $0.count == 3 && $0[1] == "Active" }, "\(namespaces)")
    }

    // run, get, get -o yaml, describe
    #expect(try kube.ok("run", "nginx", "--image=nginx") == "pod/nginx created\n")
    let pods = rows(try kube.ok("get", "pods"))
    #expect(pods.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
    #expect(pods.dropFirst().first.map { Array($0.prefix(4)) } == ["nginx", "0/1", "Pending", "0"], "\(pods)")
    let yaml = try kube.ok("get", "pod", "nginx", "-o", "yaml")
    for expected in ["restartPolicy: Always", "dnsPolicy: ClusterFirst", "imagePullPolicy: Always", "terminationGracePeriodSeconds: 30",
        "key: node.kubernetes.io/unreachable", "tolerationSeconds: \(tolerationSeconds)", "phase: Pending", "uid: ", "creationTimestamp: "]
    {
        #expect(yaml.contains(expected), "get -o yaml lacks '\(expected)'")
    }
    let wide = rows(try kube.ok("get", "pods", "-A", "-o", "wide"))
    #expect(wide.first == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"], "\(wide)")
    #expect(try kube.ok("describe", "pod", "nginx").contains("Events:"))
// An event about the pod (as the scheduler would write it) shows in describe.
let uid = try kube.ok("get", "pod", "nginx", "-o", "jsonpath={.metadata.uid}")
let now = ISO8601DateFormatter().string(from: Date())
_ = try kube.ok("create", "-f", "-", input: """
    {"apiVersion":"v1","kind":"Event","metadata":{"name":"nginx.scheduled"},"type":"Normal","reason":"Scheduled",
     "message":"Successfully assigned default/nginx to node-1","source":{"component":"default-scheduler"},"count":1,
     "firstTimestamp":"\(now)","lastTimestamp":"\(now)",
     "involvedObject":{"kind":"Pod","name":"nginx","namespace":"default","uid":"\(uid)","apiVersion":"v1"}}
    """)
let described = try kube.ok("describe", "pod", "nginx")
#expect(described.contains("Scheduled") && described.contains("default-scheduler") && described.contains("Successfully assigned default/nginx to node-1"),
    "describe pod shows no event: \(described.suffix(400))")

    // errors as a real apiserver answers them
    let missing = try kube(["get", "pod", "nope"])
    #expect(missing.status == 1 && missing.err.contains("Error from server (NotFound): pods \"nope\" not found"), "\(missing.err)")
    let again = try kube(["run", "nginx", "--image=nginx"])
    #expect(again.status == 1 && again.err.contains("Error from server (AlreadyExists): pods \"nginx\" already exists"), "\(again.err)")
    let invalid = try kube(["create", "-f", "-", "--validate=false"], input: "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"bad\"},\"spec\":{}}")
    #expect(invalid.status == 1 && invalid.err.contains("The Pod \"bad\" is invalid: spec.containers: Required value"), "\(invalid.err)")
    let unknown = try kube(["get", "foos"])
    #expect(unknown.status == 1 && unknown.err.contains("the server doesn't have a resource type \"foos\""), "\(unknown.err)")
    #expect(try raw("POST", "/api/v1/namespaces/default/pods", "{not json", "application/json") == 400)
    #expect(try raw("PATCH", "/api/v1/namespaces/default/pods/nginx", "{}", "text/plain") == 415)
    #expect(try raw("POST", "/api/v1/namespaces/nope/pods", "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
        "application/json") == 404)

    // kubectl's typed generators send protobuf bodies (Content-Type application/vnd.kubernetes.protobuf)
    #expect(try kube.ok("create", "deployment", "hello", "--image=nginx", "--port=80", "--replicas=2") == "deployment.apps/hello created\n")
    #expect(try kube.ok("get", "deployment", "hello", "-o", "jsonpath={.spec.replicas} {.spec.selector.matchLabels.app} "
        + "{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort} {.metadata.generation}")
        == "2 hello nginx 80 1")
    #expect(try kube.ok("create", "configmap", "settings", "--from-literal=mode=fast") == "configmap/settings created\n")
    #expect(try kube.ok("get", "configmap", "settings", "-o", "jsonpath={.data.mode}") == "fast")
    #expect(try kube.ok("create", "secret", "generic", "token", "--from-literal=key=s3cret") == "secret/token created\n")
    #expect(try kube.ok("get", "secret", "token", "-o", "jsonpath={.type} {.data.key}") == "Opaque czNjcmV0")
    #expect(try kube.ok("create", "namespace", "team-a") == "namespace/team-a created\n")
    #expect(try kube.ok("create", "serviceaccount", "robot", "-n", "team-a") == "serviceaccount/robot created\n")
    #expect(try kube.ok("create", "service", "clusterip", "hello", "--tcp=80:8080") == "service/hello created\n")
    let service = try kube.ok("get", "service", "hello", "-o", "jsonpath={.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app} {.spec.clusterIP}")
    #expect(service.hasPrefix("80 8080 hello 10.96."), "\(service)")
    let duplicate = try kube(["create", "configmap", "settings", "--from-literal=mode=slow"])
    #expect(duplicate.status == 1 && duplicate.err.contains("error: failed to create configmap: configmaps \"settings\" already exists"), "\(duplicate.err)")
    #expect(try raw("POST", "/api/v1/namespaces/default/configmaps", "not protobuf", "application/vnd.kubernetes.protobuf") == 400)
    // A stale update: 409 Conflict, as kubectl replace prints it.
    let stale = try kube.ok("get", "configmap", "settings", "-o", "json")
    #expect(try kube.ok("label", "configmap", "settings", "tier=fast") == "configmap/settings labeled\n")
    let conflict = try kube(["replace", "-f", "-"], input: stale)
    #expect(conflict.status == 1 && conflict.err.contains("Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be "
        + "fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again"),
        "\(conflict.err)")

    // nodes: label, annotate, taint, cordon
    #expect(try kube.ok("apply", "-f", "-", input: node) == "node/node-1 created\n")
    #expect(try kube.ok("label", "node", "node-1", "disk=ssd") == "node/node-1 labeled\n")
    #expect(try kube.ok("annotate", "node", "node-1", "owner=faultline") == "node/node-1 annotated\n")
    #expect(try kube.ok("taint", "node", "node-1", "dedicated=gpu:NoSchedule") == "node/node-1 tainted\n")
    #expect(try kube.ok("cordon", "node-1") == "node/node-1 cordoned\n")
    let nodes = rows(try kube.ok("get", "nodes"))
    #expect(nodes.first == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
    #expect(nodes.dropFirst().first.map { [$0[0], $0[1], $0[2], $0[4]] } == ["node-1", "Ready,SchedulingDisabled", "control-plane", "v1.32.0"], "\(nodes)")
    let labels = try kube.ok("get", "node", "node-1", "-o", "jsonpath={.metadata.labels.disk} {.spec.taints[0].key} {.spec.unschedulable}")
    #expect(labels == "ssd dedicated true")
    #expect(try kube.ok("uncordon", "node-1") == "node/node-1 uncordoned\n")
    #expect(try kube.ok("taint", "node", "node-1", "dedicated-") == "node/node-1 untainted\n")
    #expect(try kube.ok("describe", "node", "node-1").contains("Name:               node-1"))

    // apply: client-side twice, a change, server-side twice
    #expect(try kube.ok("apply", "-f", "-", input: deployment) == "deployment.apps/web created\n")
    #expect(try kube.ok("apply", "-f", "-", input: deployment) == "deployment.apps/web unchanged\n")
    let changed = deployment.replacingOccurrences(of: "nginx:1.27", with: "nginx:1.28")
    #expect(try kube.ok("apply", "-f", "-", input: changed) == "deployment.apps/web configured\n")
    #expect(try kube.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}") == "nginx:1.28 2")
    let serverSide = deployment.replacingOccurrences(of: "name: web\n", with: "name: api\n")
    #expect(try kube.ok("apply", "--server-side", "-f", "-", input: serverSide) == "deployment.apps/api serverside-applied\n")
    #expect(try kube.ok("apply", "--server-side", "-f", "-", input: serverSide) == "deployment.apps/api serverside-applied\n")
    #expect(try kube.ok("scale", "deployment", "web", "--replicas=5") == "deployment.apps/web scaled\n")
    let deployments = rows(try kube.ok("get", "deploy"))
    #expect(deployments.first == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
    #expect(deployments.contains { $0.first == "web" && $0[1] == "0/5" }, "\(deployments)")
    #expect(rows(try kube.ok("get", "all")).contains { $0.first == "deployment.apps/web" })

    // get -w: an event arrives for a pod created meanwhile
    let watcher = Process()
    watcher.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
    watcher.arguments = ["get", "pods", "-w"] + kube.commonArguments
    watcher.environment = ["HOME": kube.home]
    let watched = Pipe()
    watcher.standardOutput = watched
    watcher.standardError = FileHandle.nullDevice
    try watcher.run()
    usleep(1_500_000)
    _ = try kube.ok("run", "late", "--image=busybox")
    usleep(1_500_000)
    watcher.terminate()
    watcher.waitUntilExit()
    let stream = String(decoding: watched.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(stream.contains("nginx") && stream.contains("late"), "get -w printed: \(stream)")

    // delete
    #expect(try kube.ok("delete", "pod", "nginx") == "pod \"nginx\" deleted\n")
    #expect(try kube(["get", "pod", "nginx"]).status == 1)
    #expect(try kube.ok("delete", "pod", "nginx", "--ignore-not-found") == "")
}

@Suite(.serialized) struct KubectlTests {
    @Test(arguments: [(StoreKind.builtin, UInt16(26610)), (StoreKind.etcd, UInt16(26620))])
    func transcriptOnLoopback(store: StoreKind, port: UInt16) throws {
        let kube = try KubeHarness(store: store, basePort: port)
        defer { kube.stop() }
        try kubectlTranscript(kube.kubectl) { method, path, body, type in try kube.raw(method, path, body: body, contentType: type).status }
    }
}
