//! ValidationTests: known-bad objects of each kind and the exact causes (field, reason, message)
//! a v1.32 apiserver reports for them; the update rules (pod specs, deployment selectors,
//! metadata); valid objects that must pass; and the resource quantity parser.

import Testing
import Wire
import KubeAPI

/// The causes as `field: message` lines, the form kubectl prints.
private func causeLines(_ kind: String, _ object: JSONValue, old: JSONValue? = nil) -> [String] {
    KubeAPI.validate(kind: kind, object: object, old: old).map(\.description)
}

private let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    + "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    + #"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
private let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    + "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

/// A defaulted pod with one container, with `spec` members replaced or added from `specFields`.
private func validPod(name: String = "web", _ specFields: String = "") -> JSONValue {
    let extra = specFields.isEmpty ? "" : "," + specFields
    let containers = specFields.contains("\"containers\"") ? "" : #""containers":[{"name":"web","image":"nginx:1.27"}],"#
    let node = specFields.contains("\"nodeName\"") ? #""schedulerName":"default-scheduler""# : #""nodeName":"node1""#
    return KubeAPI.applyDefaults(kind: "Pod", object: parsedObject("""
        {"metadata":{"name":"\(name)","namespace":"default","uid":"u-1"},"spec":{\(containers)\(node)\(extra)}}
        """))
}

private func validDeployment(selector: String = #"{"matchLabels":{"app":"web"}}"#, templateLabels: String = #"{"app":"web"}"#, _ specFields: String = "")
    -> JSONValue
{
    let extra = specFields.isEmpty ? "" : specFields + ","
    return KubeAPI.applyDefaults(kind: "Deployment", object: parsedObject("""
        {"metadata":{"name":"web","namespace":"default"},"spec":{\(extra)"selector":\(selector),
         "template":{"metadata":{"labels":\(templateLabels)},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}
        """))
}

@Suite struct MetadataValidationTests {
    @Test func validObjectsPass() {
        #expect(causeLines("Pod", validPod()) == [])
        #expect(causeLines("Deployment", validDeployment()) == [])
        #expect(causeLines("Namespace", KubeAPI.applyDefaults(kind: "Namespace", object: parsedObject(#"{"metadata":{"name":"team-a"}}"#))) == [])
        #expect(causeLines("Node", parsedObject(#"{"metadata":{"name":"node1.example.com","labels":{"node-role.kubernetes.io/control-plane":""}}}"#)) == [])
        #expect(causeLines("ConfigMap", parsedObject(#"{"metadata":{"name":"cfg","namespace":"default"},"data":{"app.properties":"x=1"}}"#)) == [])
    }

    @Test func podWithoutContainers() {
        let causes = KubeAPI.validate(kind: "Pod", object: parsedObject(#"{"metadata":{"name":"bad","namespace":"default"},"spec":{}}"#))
        #expect(causes == [FieldCause(field: "spec.containers", reason: .required, message: "Required value")])
        #expect(causes.first?.json == parsedObject(#"{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"}"#))
        #expect(causes.first?.description == "spec.containers: Required value")
    }

    @Test func namesFollowTheRuleOfTheirKind() {
        #expect(causeLines("Pod", validPod(name: "Bad_Name")) == [#"metadata.name: Invalid value: "Bad_Name": "# + subdomainMessage])
        #expect(causeLines("Namespace", parsedObject(#"{"metadata":{"name":"team.a"}}"#)) == [#"metadata.name: Invalid value: "team.a": "# + labelMessage])
        // Service names become DNS labels that must start with a letter.
        let service = KubeAPI.applyDefaults(kind: "Service", object: parsedObject(#"{"metadata":{"name":"1web","namespace":"default"},"spec":{"ports":[{"port":80}]}}"#))
        #expect(causeLines("Service", service) == [
            #"metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', "#
                + "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                + "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        ])
        let long = String(repeating: "a", count: 64)
        #expect(causeLines("Namespace", parsedObject(#"{"metadata":{"name":"\#(long)"}}"#))
            == [#"metadata.name: Invalid value: "\#(long)": must be no more than 63 characters"#])
    }

    @Test func generateNameStandsInForTheName() {
        let generated = parsedObject(#"{"metadata":{"generateName":"web-","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#)
        #expect(causeLines("Pod", generated) == [])
        let neither = parsedObject(#"{"metadata":{"namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#)
        #expect(causeLines("Pod", neither) == ["metadata.name: Required value: name or generateName is required"])
        let badPrefix = parsedObject(#"{"metadata":{"generateName":"Web-","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#)
        #expect(causeLines("Pod", badPrefix) == [#"metadata.generateName: Invalid value: "Web-": "# + subdomainMessage])
    }

    @Test func namespaceIsRequiredWhereNamespacedAndForbiddenElsewhere() {
        #expect(causeLines("ConfigMap", parsedObject(#"{"metadata":{"name":"cfg"}}"#)) == ["metadata.namespace: Required value"])
        #expect(causeLines("Node", parsedObject(#"{"metadata":{"name":"n1","namespace":"default"}}"#))
            == ["metadata.namespace: Forbidden: not allowed on this type"])
    }

    @Test func labelsAndAnnotations() {
        let object = parsedObject("""
            {"metadata":{"name":"cfg","namespace":"default","labels":{"bad key":"ok","app":"-web"},"annotations":{"a/b/c":"x"}}}
            """)
        #expect(causeLines("ConfigMap", object) == [
            #"metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', "#
                + "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                + "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            #"metadata.labels: Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters, "#
                + "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                + "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            #"metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', "#
                + "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                + "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
                + "(e.g. 'example.com/MyName')",
        ])
    }

    @Test func identityCannotChangeOnUpdate() {
        let old = validPod()
        var renamed = causeLines("Pod", validPod(name: "other"), old: old)
        #expect(renamed == [#"metadata.name: Invalid value: "other": field is immutable"#])
        let newUID = parsedObject(#"{"metadata":{"name":"cfg","namespace":"default","uid":"u-2"}}"#)
        renamed = causeLines("ConfigMap", newUID, old: parsedObject(#"{"metadata":{"name":"cfg","namespace":"default","uid":"u-1"}}"#))
        #expect(renamed == [#"metadata.uid: Invalid value: "u-2": field is immutable"#])
        // An update without a uid keeps the stored one.
        let noUID = parsedObject(#"{"metadata":{"name":"cfg","namespace":"default"}}"#)
        #expect(causeLines("ConfigMap", noUID, old: parsedObject(#"{"metadata":{"name":"cfg","namespace":"default","uid":"u-1"}}"#)) == [])
    }
}

@Suite struct PodValidationTests {
    @Test func containerNamesImagesAndDuplicates() {
        let pod = validPod(#""containers":[{"name":"web","image":"nginx"},{"name":"web","image":"nginx"},{"name":"Side_car"},{"image":"x"}]"#)
        #expect(causeLines("Pod", pod) == [
            #"spec.containers[1].name: Duplicate value: "web""#,
            #"spec.containers[2].name: Invalid value: "Side_car": "# + labelMessage,
            "spec.containers[2].image: Required value",
            "spec.containers[3].name: Required value",
        ])
    }

    @Test func policiesMustBeSupported() {
        #expect(causeLines("Pod", validPod(#""restartPolicy":"Sometimes""#))
            == [#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#])
        #expect(causeLines("Pod", validPod(#""dnsPolicy":"Google""#))
            == [#"spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None""#])
        #expect(causeLines("Pod", validPod(#""containers":[{"name":"c","image":"x","imagePullPolicy":"Sometimes"}]"#))
            == [#"spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never""#])
    }

    @Test func containerPorts() {
        let pod = validPod(#""containers":[{"name":"c","image":"x","ports":[{"containerPort":70000},{"containerPort":0},{"containerPort":80,"protocol":"XTP","name":"http"},{"containerPort":81,"name":"http"}]}]"#)
        #expect(causeLines("Pod", pod) == [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].containerPort: Required value",
            #"spec.containers[0].ports[2].protocol: Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP""#,
            #"spec.containers[0].ports[3].name: Duplicate value: "http""#,
        ])
    }

    @Test func resourceQuantities() {
        let pod = validPod("""
            "containers":[{"name":"c","image":"x","resources":{"limits":{"cpu":"1","memory":"abc"},"requests":{"cpu":"2","memory":"-1Mi","gpu":"1"}}}]
            """)
        let path = "spec.containers[0].resources"
        #expect(causeLines("Pod", pod) == [
            "\(path).limits[memory]: Invalid value: \"abc\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            "\(path).requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
            "\(path).requests[memory]: Invalid value: \"-1Mi\": must be greater than or equal to 0",
            "\(path).requests[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
            "\(path).requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
        ])
    }

    @Test func tolerationsAndSpecFields() {
        let pod = validPod("""
            "activeDeadlineSeconds":0,"nodeSelector":{"disk":"s s d"},
            "tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule","tolerationSeconds":10},{"operator":"Equal","effect":"Never"}]
            """)
        let lines = causeLines("Pod", pod)
        #expect(lines.contains("spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"))
        #expect(lines.contains(#"spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when `tolerationSeconds` is set"#))
        #expect(lines.contains(#"spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys""#))
        #expect(lines.contains(#"spec.tolerations[1].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#))
        #expect(lines.contains { $0.hasPrefix(#"spec.nodeSelector: Invalid value: "s s d": a valid label must be"#) })
        #expect(lines.count == 5)
    }

    @Test func updatesMayChangeImagesAndAddTolerations() {
        let old = validPod()
        let newImage = validPod(#""containers":[{"name":"web","image":"nginx:1.28"}]"#)
        #expect(causeLines("Pod", newImage, old: old) == [])
        let moreTolerations = validPod(#""tolerations":[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]"#)
        #expect(causeLines("Pod", moreTolerations, old: old) == [])
    }

    @Test func updatesMayNotChangeAnythingElse() {
        let old = validPod()
        let newPort = validPod(#""containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]"#)
        let forbidden = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
            + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
        #expect(causeLines("Pod", newPort, old: old) == [forbidden])
        #expect(KubeAPI.validate(kind: "Pod", object: newPort, old: old).first?.reason == .forbidden)

        let otherNode = validPod(#""nodeName":"node2""#)
        #expect(causeLines("Pod", otherNode, old: old) == [forbidden])

        let twoContainers = validPod(#""containers":[{"name":"web","image":"nginx"},{"name":"side","image":"busybox"}]"#)
        #expect(causeLines("Pod", twoContainers, old: old) == ["spec.containers: Forbidden: pod updates may not add or remove containers"])

        let withToleration = validPod(#""tolerations":[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]"#)
        let removed = causeLines("Pod", validPod(), old: withToleration)
        #expect(removed == ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"])
    }
}

@Suite struct WorkloadValidationTests {
    @Test func selectorMustMatchTheTemplate() {
        #expect(causeLines("Deployment", validDeployment(templateLabels: #"{"app":"other","tier":"front"}"#)) == [
            #"spec.template.metadata.labels: Invalid value: map[string]string{"app":"other", "tier":"front"}: `selector` does not match template `labels`"#,
        ])
        let expressions = #"{"matchExpressions":[{"key":"app","operator":"In","values":["web","api"]}]}"#
        #expect(causeLines("Deployment", validDeployment(selector: expressions)) == [])
    }

    @Test func selectorIsRequired() {
        let deployment = KubeAPI.applyDefaults(kind: "Deployment", object: parsedObject("""
            {"metadata":{"name":"web","namespace":"default"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},
             "spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}}
            """))
        #expect(causeLines("Deployment", deployment) == [
            "spec.selector: Required value",
            #"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#,
        ])
        #expect(causeLines("Deployment", validDeployment(selector: "{}")) == [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                + "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        ])
        #expect(causeLines("Deployment", validDeployment(selector: #"{"matchExpressions":[{"key":"app","operator":"Near"}]}"#)) == [
            #"spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator"#,
            #"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{"#
                + #"v1.LabelSelectorRequirement{Key:"app", Operator:"Near", Values:[]string(nil)}}}: invalid label selector"#,
        ])
    }

    @Test func countsStrategyAndTemplatePolicy() {
        #expect(causeLines("Deployment", validDeployment(#""replicas":-1"#)) == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"])
        #expect(causeLines("Deployment", validDeployment(#""strategy":{"type":"BlueGreen"}"#)) == [
            #"spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: "#
                + #"supported values: "Recreate", "RollingUpdate""#,
        ])
        #expect(causeLines("Deployment", validDeployment(#""strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"150%","maxSurge":0}}"#)) == [
            #"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%"#,
        ])
        #expect(causeLines("Deployment", validDeployment(#""strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"0%"}}"#)) == [
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0",
        ])
        #expect(causeLines("Deployment", validDeployment(#""strategy":{"type":"Recreate","rollingUpdate":{"maxSurge":1}}"#))
            == ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"])
        #expect(causeLines("Deployment", validDeployment(#""progressDeadlineSeconds":10,"minReadySeconds":10"#))
            == ["spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"])

        let never = parsedObject("""
            {"metadata":{"name":"rs","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"x"}]}}}}
            """)
        #expect(causeLines("ReplicaSet", never) == [#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#])
    }

    @Test func selectorIsImmutable() {
        let old = validDeployment()
        let changed = validDeployment(selector: #"{"matchLabels":{"app":"web2"}}"#, templateLabels: #"{"app":"web2"}"#)
        #expect(causeLines("Deployment", changed, old: old) == [
            #"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, "#
                + "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        ])
        let dropped = validDeployment(selector: "null")
        #expect(causeLines("Deployment", dropped, old: old) == [
            "spec.selector: Required value",
            #"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#,
            #"spec.selector: Invalid value: "null": field is immutable"#,
        ])
        let scaled = validDeployment(#""replicas":5"#)
        #expect(causeLines("Deployment", scaled, old: old) == [])
    }
}

@Suite struct ServiceAndClusterValidationTests {
    func service(_ spec: String) -> JSONValue {
        KubeAPI.applyDefaults(kind: "Service", object: parsedObject(#"{"metadata":{"name":"web","namespace":"default"},"spec":{\#(spec)}}"#),
            clusterIP: "10.96.0.10")
    }

    @Test func servicePorts() {
        #expect(causeLines("Service", service(#""selector":{"app":"web"}"#)) == ["spec.ports: Required value"])
        #expect(causeLines("Service", service(#""clusterIP":"None""#)) == [])
        #expect(causeLines("Service", service(#""type":"ExternalName""#)) == ["spec.externalName: Required value"])
        #expect(causeLines("Service", service(#""ports":[{"port":0},{"port":80,"protocol":"XTP"}]"#)) == [
            "spec.ports[0].name: Required value",
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            // The target port defaults to the (invalid) port, and is reported too.
            "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[1].name: Required value",
            #"spec.ports[1].protocol: Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP""#,
        ])
        #expect(causeLines("Service", service(#""ports":[{"port":80,"nodePort":30080}]"#))
            == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"])
        #expect(causeLines("Service", service(#""type":"Balanced","ports":[{"port":80}]"#))
            == [#"spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#])
    }

    @Test func clusterIPNeverChanges() {
        let old = service(#""ports":[{"port":80}]"#)
        var moved = old
        if case .object(var fields) = moved, case .object(var spec)? = fields["spec"] {
            spec["clusterIPs"] = .array([.string("10.96.0.99")])
            fields["spec"] = .object(spec)
            moved = .object(fields)
        }
        #expect(causeLines("Service", moved, old: old) == [#"spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set"#])
        #expect(causeLines("Service", old, old: old) == [])
    }

    @Test func nodeTaints() {
        let node = parsedObject("""
            {"metadata":{"name":"node1"},"spec":{"taints":[{"key":"dedicated","value":"gpu","effect":"Sometimes"},{"key":"x","value":"y"},
             {"key":"dedicated","value":"cpu","effect":"Sometimes"}]}}
            """)
        #expect(causeLines("Node", node) == [
            #"metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#,
            "metadata.taints[1].effect: Required value",
            #"metadata.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#,
            #"metadata.taints[2]: Duplicate value: core.Taint{Key:"dedicated", Value:"cpu", Effect:"Sometimes", TimeAdded:(*v1.Time)(nil)}: "#
                + "taints must be unique by key and effect pair",
        ])
    }

    @Test func leasesConfigMapsSecretsAndEvents() {
        #expect(causeLines("Lease", parsedObject(#"{"metadata":{"name":"node1","namespace":"kube-node-lease"},"spec":{"leaseDurationSeconds":0}}"#))
            == ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"])
        #expect(causeLines("ConfigMap", parsedObject(#"{"metadata":{"name":"cfg","namespace":"default"},"data":{"bad key":"v"}}"#)) == [
            #"data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' "#
                + "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ])
        let frozen = parsedObject(#"{"metadata":{"name":"cfg","namespace":"default"},"immutable":true,"data":{"a":"1"}}"#)
        let edited = parsedObject(#"{"metadata":{"name":"cfg","namespace":"default"},"immutable":true,"data":{"a":"2"}}"#)
        #expect(causeLines("ConfigMap", edited, old: frozen) == ["data: Forbidden: field is immutable when `immutable` is set"])
        #expect(causeLines("Secret", parsedObject(#"{"metadata":{"name":"tls","namespace":"default"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}}"#))
            == ["data[tls.key]: Required value"])

        let misplaced = parsedObject("""
            {"metadata":{"name":"web.1","namespace":"default"},"involvedObject":{"kind":"Pod","name":"web","namespace":"other"},"reason":"Started"}
            """)
        #expect(causeLines("Event", misplaced) == [#"involvedObject.namespace: Invalid value: "other": does not match event.namespace"#])
        let unnamespaced = parsedObject("""
            {"metadata":{"name":"web.1","namespace":"default"},"involvedObject":{"kind":"Pod","name":"web"},"reason":"Started"}
            """)
        #expect(causeLines("Event", unnamespaced) == ["involvedObject.namespace: Required value: required for kind Pod"])
        let nodeEvent = parsedObject("""
            {"metadata":{"name":"node1.1","namespace":"default"},"involvedObject":{"kind":"Node","name":"node1"},"reason":"NodeReady"}
            """)
        #expect(causeLines("Event", nodeEvent) == [])
    }
}

@Suite struct ResourceQuantityTests {
    @Test(arguments: [
        ("100m", 100), ("1", 1000), ("2", 2000), ("0.5", 500), ("1e3", 1_000_000), ("1E-3", 1), ("1k", 1_000_000),
        ("512Mi", 536_870_912_000), ("1Gi", 1_073_741_824_000), ("1.5Gi", 1_610_612_736_000), ("128974848", 128_974_848_000),
        ("129M", 129_000_000_000), ("1n", 1), ("250u", 1), ("0", 0), ("-100m", -100), ("+2", 2000), ("1.", 1000),
    ] as [(String, Int64)])
    func parsesToMilliUnits(text: String, milli: Int64) {
        #expect(ResourceQuantity(text)?.milliValue == milli)
    }

    @Test func rejectsMalformedQuantities() {
        for text in ["", "abc", "1 Gi", "--1", "0x10", "5Q", "2KiB"] {
            #expect(throws: ResourceQuantity.ParseError.format, "\(text)") { try ResourceQuantity.parse(text) }
        }
        for text in ["1e", "3mi", "5ki", "1MM", "1Ki3"] {
            #expect(throws: ResourceQuantity.ParseError.suffix, "\(text)") { try ResourceQuantity.parse(text) }
        }
    }

    @Test func wholeUnitsRoundUpAndHugeValuesSaturate() {
        #expect(ResourceQuantity("1500m")?.value == 2)
        #expect(ResourceQuantity("100m")?.value == 1)
        #expect(ResourceQuantity("2")?.value == 2)
        #expect(ResourceQuantity("16Ei")?.milliValue == Int64.max)
        #expect(ResourceQuantity("0.1m")?.milliValue == 1)
    }

    @Test func readsJSONNumbersAndCompares() {
        #expect(ResourceQuantity(json: .integer(2))?.milliValue == 2000)
        #expect(ResourceQuantity(json: .number(0.25))?.milliValue == 250)
        #expect(ResourceQuantity(json: .bool(true)) == nil)
        #expect(ResourceQuantity("500m")! < ResourceQuantity("1")!)
        #expect(ResourceQuantity("1000m") == ResourceQuantity("1"))
        #expect(ResourceQuantity("1500m")?.description == "1500m")
        #expect(ResourceQuantity("3")?.description == "3")
    }
}
