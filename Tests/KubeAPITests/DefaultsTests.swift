//! DefaultsTests: what `applyDefaults` fills in, checked against what a v1.32 apiserver stores for
//! the same input (kubectl run's pod, a plain Deployment, a Service), that client-set fields
//! survive, and that the admission additions (tolerations, priority) respect what is there.

import Testing
import Wire
import KubeAPI

/// Parses a JSON fixture; a fixture that does not parse fails the test that uses it.
func parsedObject(_ text: String) -> JSONValue {
    do {
        return try JSON.parse(text)
    } catch {
        Issue.record("fixture does not parse: \(error)")
        return .null
    }
}

/// Whether two JSON values are equal, whatever the order of object members.
func sameJSON(_ first: JSONValue?, _ second: JSONValue?) -> Bool {
    canonicalJSON(first) == canonicalJSON(second)
}

private func canonicalJSON(_ value: JSONValue?) -> JSONValue? {
    switch value {
    case .object(let object)?:
        var sorted = JSONObject()
        for key in object.keys.sorted() { sorted[key] = canonicalJSON(object[key]) }
        return .object(sorted)
    case .array(let elements)?:
        return .array(elements.map { canonicalJSON($0) ?? .null })
    default:
        return value
    }
}

/// The value at a chain of object members.
func valueAt(_ value: JSONValue?, _ path: String...) -> JSONValue? {
    path.reduce(value) { $0?[$1] }
}

/// The pod `kubectl run nginx --image=nginx` sends.
private let kubectlRunPod = """
    {"kind":"Pod","apiVersion":"v1","metadata":{"name":"nginx","namespace":"default","creationTimestamp":null,"labels":{"run":"nginx"}},
     "spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst"},"status":{}}
    """

@Suite struct DefaultsTests {
    @Test func kubectlRunPodGetsWhatTheRealServerStores() {
        let pod = KubeAPI.applyDefaults(kind: "Pod", object: parsedObject(kubectlRunPod))
        let spec = valueAt(pod, "spec")
        #expect(valueAt(spec, "restartPolicy") == .string("Always"))
        #expect(valueAt(spec, "dnsPolicy") == .string("ClusterFirst"))
        #expect(valueAt(spec, "terminationGracePeriodSeconds") == .integer(30))
        #expect(valueAt(spec, "schedulerName") == .string("default-scheduler"))
        #expect(valueAt(spec, "securityContext") == .object([:]))
        #expect(valueAt(spec, "enableServiceLinks") == .bool(true))
        #expect(valueAt(spec, "priority") == .integer(0))
        #expect(valueAt(spec, "preemptionPolicy") == .string("PreemptLowerPriority"))
        #expect(sameJSON(valueAt(spec, "tolerations"), parsedObject("""
            [{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
             {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]
            """)))
        #expect(sameJSON(valueAt(spec, "containers"), parsedObject("""
            [{"name":"nginx","image":"nginx","resources":{},"imagePullPolicy":"Always",
              "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}]
            """)))
        // Metadata and status are the shell's business.
        #expect(valueAt(pod, "metadata") == valueAt(parsedObject(kubectlRunPod), "metadata"))
    }

    @Test(arguments: [
        ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
        ("nginx@sha256:0123456789abcdef", "IfNotPresent"), ("nginx:latest@sha256:0123456789abcdef", "Always"),
        ("localhost:5000/app", "Always"), ("localhost:5000/app:v2", "IfNotPresent"),
        ("registry.example.com:443/team/app:1.0", "IfNotPresent"), ("Registry.Example.com/team/app", "Always"),
        ("Nginx", "IfNotPresent"),
    ])
    func imagePullPolicyFollowsTheTag(image: String, policy: String) {
        let pod = KubeAPI.applyDefaults(kind: "Pod", object: podWithContainer(#"{"name":"c","image":"\#(image)"}"#))
        #expect(valueAt(pod, "spec", "containers")?.asFirst?["imagePullPolicy"] == .string(policy))
    }

    @Test func fieldsTheClientSetAreKept() {
        let pod = KubeAPI.applyDefaults(kind: "Pod", object: parsedObject("""
            {"metadata":{"name":"p"},"spec":{"restartPolicy":"Never","dnsPolicy":"Default","terminationGracePeriodSeconds":5,
             "enableServiceLinks":false,"containers":[{"name":"c","image":"nginx","imagePullPolicy":"Never",
             "terminationMessagePolicy":"FallbackToLogsOnError"}]}}
            """))
        #expect(valueAt(pod, "spec", "restartPolicy") == .string("Never"))
        #expect(valueAt(pod, "spec", "dnsPolicy") == .string("Default"))
        #expect(valueAt(pod, "spec", "terminationGracePeriodSeconds") == .integer(5))
        #expect(valueAt(pod, "spec", "enableServiceLinks") == .bool(false))
        let container = valueAt(pod, "spec", "containers")?.asFirst
        #expect(container?["imagePullPolicy"] == .string("Never"))
        #expect(container?["terminationMessagePolicy"] == .string("FallbackToLogsOnError"))
    }

    @Test func defaultTolerationsAreAddedOnlyWhereNotTolerated() {
        // Tolerating everything (empty key, Exists, any effect) covers both taints.
        let tolerant = KubeAPI.applyDefaults(kind: "Pod", object: podWithSpec(#""tolerations":[{"operator":"Exists"}]"#))
        #expect(sameJSON(valueAt(tolerant, "spec", "tolerations"), parsedObject(#"[{"operator":"Exists"}]"#)))

        let partly = KubeAPI.applyDefaults(kind: "Pod", object: podWithSpec("""
            "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":60},
                           {"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]
            """))
        #expect(sameJSON(valueAt(partly, "spec", "tolerations"), parsedObject("""
            [{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":60},
             {"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"},
             {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]
            """)))
    }

    @Test func portsLimitsProbesAndVolumes() {
        let pod = KubeAPI.applyDefaults(kind: "Pod", object: podWithSpec("""
            "hostNetwork":true,"volumes":[{"name":"scratch"},{"name":"config","configMap":{"name":"cm"}}],
            "containers":[{"name":"c","image":"app:1","ports":[{"containerPort":8080},{"containerPort":53,"protocol":"UDP","hostPort":53}],
              "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m"}},
              "readinessProbe":{"httpGet":{"port":8080}}}]
            """))
        let container = valueAt(pod, "spec", "containers")?.asFirst
        #expect(sameJSON(valueAt(container, "ports"), parsedObject("""
            [{"containerPort":8080,"protocol":"TCP","hostPort":8080},{"containerPort":53,"protocol":"UDP","hostPort":53}]
            """)))
        #expect(sameJSON(valueAt(container, "resources", "requests"), parsedObject(#"{"cpu":"250m","memory":"128Mi"}"#)))
        #expect(sameJSON(valueAt(container, "readinessProbe"), parsedObject("""
            {"httpGet":{"port":8080,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}
            """)))
        #expect(sameJSON(valueAt(pod, "spec", "volumes"), parsedObject("""
            [{"name":"scratch","emptyDir":{}},{"name":"config","configMap":{"name":"cm","defaultMode":420}}]
            """)))
    }

    @Test func systemPriorityClassesGetTheirValue() {
        let critical = KubeAPI.applyDefaults(kind: "Pod", object: podWithSpec(#""priorityClassName":"system-node-critical""#))
        #expect(valueAt(critical, "spec", "priority") == .integer(2_000_001_000))
        // A class the core does not know is left for the shell to look up.
        let custom = KubeAPI.applyDefaults(kind: "Pod", object: podWithSpec(#""priorityClassName":"batch-low""#))
        #expect(valueAt(custom, "spec", "priority") == nil)
    }

    @Test func deploymentGetsRolloutDefaultsAndTemplateDefaultsButNoAdmission() {
        let deployment = KubeAPI.applyDefaults(kind: "Deployment", object: parsedObject("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}
            """))
        let spec = valueAt(deployment, "spec")
        #expect(valueAt(spec, "replicas") == .integer(1))
        #expect(sameJSON(valueAt(spec, "strategy"), parsedObject(#"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}"#)))
        #expect(valueAt(spec, "revisionHistoryLimit") == .integer(10))
        #expect(valueAt(spec, "progressDeadlineSeconds") == .integer(600))
        #expect(sameJSON(valueAt(spec, "template", "spec"), parsedObject("""
            {"containers":[{"name":"nginx","image":"nginx:1.27","imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log",
              "terminationMessagePolicy":"File","resources":{}}],
             "dnsPolicy":"ClusterFirst","restartPolicy":"Always","securityContext":{},"terminationGracePeriodSeconds":30,
             "schedulerName":"default-scheduler"}
            """)))

        let recreate = KubeAPI.applyDefaults(kind: "Deployment", object: parsedObject(#"{"spec":{"strategy":{"type":"Recreate"}}}"#))
        #expect(sameJSON(valueAt(recreate, "spec", "strategy"), parsedObject(#"{"type":"Recreate"}"#)))
    }

    @Test func replicaSetGetsOneReplicaAndTemplateDefaults() {
        let replicaSet = KubeAPI.applyDefaults(kind: "ReplicaSet", object: parsedObject("""
            {"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}
            """))
        #expect(valueAt(replicaSet, "spec", "replicas") == .integer(1))
        #expect(valueAt(replicaSet, "spec", "template", "spec", "restartPolicy") == .string("Always"))
        #expect(valueAt(replicaSet, "spec", "template", "spec", "containers")?.asFirst?["imagePullPolicy"] == .string("Always"))
    }

    @Test func serviceGetsTypeAffinityPortsAndTheAllocatedClusterIP() {
        let service = KubeAPI.applyDefaults(kind: "Service", object: parsedObject("""
            {"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80},{"name":"metrics","port":9090,"targetPort":"metrics"}]}}
            """), clusterIP: "10.96.0.10")
        #expect(sameJSON(valueAt(service, "spec"), parsedObject("""
            {"selector":{"app":"web"},
             "ports":[{"port":80,"protocol":"TCP","targetPort":80},{"name":"metrics","port":9090,"targetPort":"metrics","protocol":"TCP"}],
             "type":"ClusterIP","sessionAffinity":"None","internalTrafficPolicy":"Cluster","clusterIP":"10.96.0.10",
             "clusterIPs":["10.96.0.10"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack"}
            """)))
        #expect(sameJSON(valueAt(service, "status"), parsedObject(#"{"loadBalancer":{}}"#)))

        let nodePort = KubeAPI.applyDefaults(kind: "Service", object: parsedObject(#"{"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}}"#))
        #expect(valueAt(nodePort, "spec", "externalTrafficPolicy") == .string("Cluster"))
        #expect(valueAt(nodePort, "spec", "clusterIP") == nil)

        let sticky = KubeAPI.applyDefaults(kind: "Service", object: parsedObject(#"{"spec":{"sessionAffinity":"ClientIP","ports":[{"port":80}]}}"#))
        #expect(sameJSON(valueAt(sticky, "spec", "sessionAffinityConfig"), parsedObject(#"{"clientIP":{"timeoutSeconds":10800}}"#)))

        let external = KubeAPI.applyDefaults(
            kind: "Service", object: parsedObject(#"{"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#), clusterIP: "10.96.0.11")
        #expect(valueAt(external, "spec", "clusterIP") == nil)
        #expect(valueAt(external, "spec", "internalTrafficPolicy") == nil)
    }

    @Test func namespaceIsActiveWithItsNameLabelAndNoFinalizerFromDefaulting() {
        let namespace = KubeAPI.applyDefaults(kind: "Namespace", object: parsedObject(#"{"metadata":{"name":"team-a"}}"#))
        #expect(sameJSON(namespace, parsedObject("""
            {"metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"team-a"}},"status":{"phase":"Active"}}
            """)), "the `kubernetes` finalizer comes with the create, so that `finalize` can remove it for good")
        let finalized = KubeAPI.applyDefaults(kind: "Namespace", object: parsedObject(#"{"metadata":{"name":"team-a"},"spec":{}}"#))
        #expect(valueAt(finalized, "spec", "finalizers") == nil)
    }

    @Test func nodeKeepsItsAddressesAndMayAllocateItsCapacity() {
        let node = parsedObject("""
            {"metadata":{"name":"node1"},"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"capacity":{"cpu":"4","pods":"110"}}}
            """)
        let defaulted = KubeAPI.applyDefaults(kind: "Node", object: node)
        #expect(valueAt(defaulted, "status", "addresses") == valueAt(node, "status", "addresses"))
        #expect(sameJSON(valueAt(defaulted, "status", "allocatable"), parsedObject(#"{"cpu":"4","pods":"110"}"#)))
    }

    @Test func defaultingTwiceChangesNothingMore() {
        for (kind, object) in [("Pod", kubectlRunPod), ("Deployment", #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#),
            ("Service", #"{"spec":{"ports":[{"port":80}]}}"#), ("Namespace", #"{"metadata":{"name":"n"}}"#)]
        {
            let once = KubeAPI.applyDefaults(kind: kind, object: parsedObject(object), clusterIP: "10.96.0.1")
            #expect(KubeAPI.applyDefaults(kind: kind, object: once, clusterIP: "10.96.0.2") == once, "\(kind)")
        }
    }

    private func podWithContainer(_ container: String) -> JSONValue {
        parsedObject(#"{"metadata":{"name":"p"},"spec":{"containers":[\#(container)]}}"#)
    }

    private func podWithSpec(_ fields: String) -> JSONValue {
        let containers = fields.contains("\"containers\"") ? "" : #","containers":[{"name":"c","image":"nginx"}]"#
        return parsedObject(#"{"metadata":{"name":"p"},"spec":{\#(fields)\#(containers)}}"#)
    }
}

private extension JSONValue {
    /// The first element of an array.
    var asFirst: JSONValue? {
        if case .array(let elements) = self { return elements.first }
        return nil
    }
}
