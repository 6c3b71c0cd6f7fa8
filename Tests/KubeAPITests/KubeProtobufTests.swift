//! KubeProtobufTests: protobuf bodies captured from real kubectl v1.32 (`kubectl create namespace|
//! configmap|secret|serviceaccount|service|deployment|job|cronjob`, posted to a capture server)
//! decode to exactly the JSON kubectl sends with `-o json` (less its empty `{}`/null members);
//! hand-built bodies cover pods, leases and the special types; and malformed or unsupported
//! bodies throw errors that say where and what to do, never crash.

import Testing
import Wire
import KubeAPI

@Suite struct KubeProtobufTests {
    // MARK: Real kubectl bodies

    /// (what kubectl was asked, the captured body in hex, the JSON it must decode to).
    static let captured: [(command: String, hex: String, json: String)] = [
        ("create namespace foo",
         "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a020a001a002200",
         #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"foo"}}"#),
        ("create configmap cm --from-literal=a=b",
         "6b3873000a0f0a0276311209436f6e6669674d617012230a190a02636d12001a0764656661756c7422002a00320038004200"
            + "12060a01611201621a002200",
         #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"default"},"data":{"a":"b"}}"#),
        ("create configmap cmb --from-file=blob=<00 ff fe> --from-literal=text=hello",
         "6b3873000a0f0a0276311209436f6e6669674d617012380a1a0a03636d6212001a0764656661756c7422002a0032003800420012"
            + "0d0a0474657874120568656c6c6f1a0b0a04626c6f62120300fffe1a002200",
         #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cmb","namespace":"default"},"#
            + #""data":{"text":"hello"},"binaryData":{"blob":"AP/+"}}"#),
        ("create secret generic s --from-literal=a=b --from-literal=empty=",
         "6b3873000a0c0a0276311206536563726574122f0a180a017312001a0764656661756c7422002a0032003800420012060a016112"
            + "016212090a05656d70747912001a001a002200",
         #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"a":"Yg==","empty":""}}"#),
        ("create secret docker-registry reg --docker-server=r.example --docker-username=u --docker-password=p",
         "6b3873000a0c0a02763112065365637265741298010a1a0a0372656712001a0764656661756c7422002a00320038004200125a0a"
            + "112e646f636b6572636f6e6669676a736f6e12457b226175746873223a7b22722e6578616d706c65223a7b22757365726e616d65"
            + "223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a1e6b756265726e657465732e696f"
            + "2f646f636b6572636f6e6669676a736f6e1a002200",
         #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"reg","namespace":"default"},"data":{".dockerconfigjson":"#
            + #""eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19"},"#
            + #""type":"kubernetes.io/dockerconfigjson"}"#),
        ("create serviceaccount sa",
         "6b3873000a140a027631120e536572766963654163636f756e74121b0a190a02736112001a0764656661756c7422002a0032003800"
            + "42001a002200",
         #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa","namespace":"default"}}"#),
        ("create service clusterip svc --tcp=80:8080",
         "6b3873000a0d0a02763112075365727669636512700a260a0373766312001a0764656661756c7422002a003200380042005a0a0a03"
            + "617070120373766312420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a0361707012037376631"
            + "a002209436c757374657249503a00420052005a00600068001a020a001a002200",
         #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"default","labels":{"app":"svc"}},"#
            + #""spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"svc"},"#
            + #""type":"ClusterIP"}}"#),
        ("create service nodeport np --tcp=80:8080 --node-port=30080",
         "6b3873000a0d0a027631120753657276696365126e0a240a026e7012001a0764656661756c7422002a003200380042005a090a0361"
            + "707012026e7012420a1d0a0738302d38303830120354435018502207080010903f1a002880eb0112090a0361707012026e701a00"
            + "22084e6f6465506f72743a00420052005a00600068001a020a001a002200",
         #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"np","namespace":"default","labels":{"app":"np"}},"#
            + #""spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}],"#
            + #""selector":{"app":"np"},"type":"NodePort"}}"#),
        ("create deployment web --image=nginx --port=80 --replicas=2",
         deploymentHex,
         #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},"#
            + #""spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"#
            + #""spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}]}]}}}}"#),
        ("create deployment d --image=busybox -- sleep 100",
         "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bb010a220a016412001a0764656661756c7422002a00320038"
            + "0042005a080a036170701201641286010801120a0a080a036170701201641a6e0a1a0a0012001a0022002a003200380042005a08"
            + "0a03617070120164125012320a0762757379626f78120762757379626f781a05736c6565701a033130302a0042006a0072008001"
            + "00880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c08001000"
            + "18002000280038001a002200",
         #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"default","labels":{"app":"d"}},"#
            + #""spec":{"replicas":1,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"#
            + #""spec":{"containers":[{"name":"busybox","image":"busybox","command":["sleep","100"]}]}}}}"#),
        ("create deployment z --image=nginx --replicas=0",
         deploymentZeroHex,
         #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"z","namespace":"default","labels":{"app":"z"}},"#
            + #""spec":{"replicas":0,"selector":{"matchLabels":{"app":"z"}},"template":{"metadata":{"labels":{"app":"z"}},"#
            + #""spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}}"#),
        ("create job j --image=busybox -- echo hi",
         "6b3873000a0f0a0862617463682f763112034a6f621289010a180a016a12001a0764656661756c7422002a00320038004200126332"
            + "610a100a0012001a0022002a00320038004200124d122a0a016a120762757379626f781a046563686f1a0268692a0042006a0072"
            + "00800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c201001a0820002800"
            + "30003a001a002200",
         #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"default"},"spec":{"template":{"#
            + #""spec":{"containers":[{"name":"j","image":"busybox","command":["echo","hi"]}],"restartPolicy":"Never"}}}}"#),
        ("create cronjob cj --image=busybox --schedule='*/1 * * * *' -- echo hi",
         "6b3873000a130a0862617463682f7631120743726f6e4a6f6212af010a190a02636a12001a0764656661756c7422002a0032003800"
            + "4200128f010a0b2a2f31202a202a202a202a1a002a7e0a120a02636a12001a0022002a00320038004200126832660a100a001200"
            + "1a0022002a003200380042001252122b0a02636a120762757379626f781a046563686f1a0268692a0042006a0072008001008801"
            + "00900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a0100c201001a001a002200",
         #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj","namespace":"default"},"#
            + #""spec":{"schedule":"*/1 * * * *","jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"spec":{"#
            + #""containers":[{"name":"cj","image":"busybox","command":["echo","hi"]}],"restartPolicy":"OnFailure"}}}}}}"#),
    ]

    static let deploymentHex =
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bf010a260a0377656212001a0764656661756c7422002a0032"
        + "0038004200"
        + "5a0a0a0361707012037765621286010802120c0a0a0a0361707012037765621a6c0a1c0a0012001a0022002a00320038004200"
        + "5a0a0a036170701203776562124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042006a0072008001"
        + "00880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c08001000"
        + "18002000280038001a002200"

    static let deploymentZeroHex =
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412aa010a220a017a12001a0764656661756c7422002a00320038"
        + "0042005a080a0361707012017a12760800120a0a080a0361707012017a1a5e0a1a0a0012001a0022002a003200380042005a080a"
        + "0361707012017a124012220a056e67696e7812056e67696e782a0042006a007200800100880100900100a201001a00320042004a"
        + "0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200"

    @Test(arguments: captured.indices)
    func kubectlBodiesDecodeToTheJSONKubectlWouldSend(index: Int) throws {
        let (command, hex, json) = Self.captured[index]
        let decoded = try KubeProtobuf.decodeObject(try bytes(hex))
        let expected = try JSON.parse(json)
        #expect(decoded == expected, "kubectl \(command): got \(JSON.serialize(decoded))")
    }

    @Test func pointerZeroSurvivesAndPlainZeroValuesDoNot() throws {
        let deployment = try KubeProtobuf.decodeObject(try bytes(Self.deploymentZeroHex))
        // replicas is *int32: on the wire only when set, so 0 is the user's 0.
        #expect(deployment["spec"]?["replicas"] == .integer(0))
        // namespace, creationTimestamp, resources, terminationMessagePath, strategy and status are
        // plain Go values kubectl's marshaller wrote as "" / zero / {}: a JSON client omits them.
        let template = try #require(deployment["spec"]?["template"])
        #expect(template["metadata"]?["namespace"] == nil)
        #expect(template["metadata"]?["creationTimestamp"] == nil)
        let container = try #require(template["spec"]?["containers"].flatMap { if case .array(let all) = $0 { all.first } else { nil } })
        #expect(container["resources"] == nil)
        #expect(container["terminationMessagePath"] == nil)
        #expect(container["stdin"] == nil)
        #expect(deployment["spec"]?["strategy"] == nil)
        #expect(deployment["status"] == nil)
        #expect(deployment["metadata"]?["namespace"] == .string("default"))
    }

    @Test func mediaTypeIsKubernetesProtobuf() {
        #expect(KubeProtobuf.mediaType == "application/vnd.kubernetes.protobuf")
    }

    // MARK: Hand-built bodies: pods, leases, special types

    @Test func podWithVolumesProbesResourcesAndPointerZeros() throws {
        let emptyDir = Proto()
        let hostPath = Proto().string(1, "/data").string(2, "")
        let volumes = [
            Proto().string(1, "scratch").message(2, Proto().message(2, emptyDir)),
            Proto().string(1, "host").message(2, Proto().message(1, hostPath)),
        ]
        let probe = Proto()
            .message(1, Proto().message(2, Proto().string(1, "/healthz").message(2, intOrString(text: "http"))))
            .varint(2, UInt64(bitPattern: -1))
        let resources = Proto()
            .message(1, Proto().string(1, "cpu").message(2, Proto().string(1, "500m")))
            .message(2, Proto().string(1, "memory").message(2, Proto().string(1, "64Mi")))
        let container = Proto().string(1, "app").string(2, "nginx")
            .message(6, Proto().string(1, "http").varint(2, 0).varint(3, 8080))
            .message(7, Proto().string(1, "MODE").string(2, "fast"))
            .message(7, Proto().string(1, "EMPTY").string(2, ""))
            .message(8, resources)
            .message(10, probe)
            .message(15, Proto())
        let security = Proto().varint(2, 0).varint(4, 10).varint(4, 20)
        let spec = Proto().message(1, volumes[0]).message(1, volumes[1]).message(2, container)
            .varint(21, 0).message(14, security)
            .message(22, Proto().string(1, "node.kubernetes.io/unreachable").string(2, "Exists").string(4, "NoExecute").varint(5, 300))
        let pod = Proto().message(1, Proto().string(1, "p").string(3, "").message(8, Proto())).message(2, spec)
        let decoded = try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Pod", pod))
        let expected = try JSON.parse(
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"volumes":["#
                + #"{"name":"scratch","emptyDir":{}},{"name":"host","hostPath":{"path":"/data","type":""}}],"#
                + #""containers":[{"name":"app","image":"nginx","ports":[{"name":"http","containerPort":8080}],"#
                + #""env":[{"name":"MODE","value":"fast"},{"name":"EMPTY"}],"#
                + #""resources":{"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}},"#
                + #""livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"initialDelaySeconds":-1},"#
                + #""securityContext":{}}],"#
                + #""automountServiceAccountToken":false,"#
                + #""securityContext":{"runAsUser":0,"supplementalGroups":[10,20]},"#
                + #""tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]}}"#)
        #expect(decoded == expected, "got \(JSON.serialize(decoded))")
    }

    @Test func packedAndUnpackedRepeatedNumbersDecodeAlike() throws {
        func pod(_ security: Proto) throws -> JSONValue {
            let spec = Proto().message(2, Proto().string(1, "c")).message(14, security)
            return try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Pod", Proto().message(2, spec)))
        }
        let unpacked = try pod(Proto().varint(4, 1).varint(4, 2).varint(4, 300))
        let packed = try pod(Proto().bytes(4, [1, 2, 0xAC, 0x02]))
        #expect(unpacked["spec"]?["securityContext"]?["supplementalGroups"] == .array([.integer(1), .integer(2), .integer(300)]))
        #expect(packed == unpacked)
    }

    @Test func leaseMicroTimesAndMetadataTime() throws {
        let spec = Proto().string(1, "node-a").varint(2, 40)
            .message(3, Proto().varint(1, 1_735_689_600).varint(2, 123_456_789))
            .message(4, Proto().varint(1, 1_735_689_601))
            .varint(5, 0)
        let metadata = Proto().string(1, "node-a").string(3, "kube-node-lease")
            .message(8, Proto().varint(1, 1_709_210_096).varint(2, 999))
            .message(9, Proto())
        let decoded = try KubeProtobuf.decodeObject(
            body(apiVersion: "coordination.k8s.io/v1", kind: "Lease", Proto().message(1, metadata).message(2, spec)))
        let expected = try JSON.parse(
            #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","#
                + #""metadata":{"name":"node-a","namespace":"kube-node-lease","creationTimestamp":"2024-02-29T12:34:56Z"},"#
                + #""spec":{"holderIdentity":"node-a","leaseDurationSeconds":40,"#
                + #""acquireTime":"2025-01-01T00:00:00.123456Z","renewTime":"2025-01-01T00:00:01.000000Z","leaseTransitions":0}}"#)
        #expect(decoded == expected, "got \(JSON.serialize(decoded))")
    }

    @Test(arguments: [
        ([UInt8](), ""), ([0x61], "YQ=="), ([0x61, 0x62], "YWI="), ([0x61, 0x62, 0x63], "YWJj"),
        ([0xFB, 0xFF, 0xBF], "+/+/"), ([0, 0, 0, 0], "AAAAAA=="),
    ] as [([UInt8], String)])
    func secretDataIsStandardBase64(data: [UInt8], text: String) throws {
        let secret = Proto().message(1, Proto().string(1, "s")).message(2, Proto().string(1, "k").bytes(2, data))
        let decoded = try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Secret", secret))
        #expect(decoded["data"]?["k"] == .string(text))
    }

    @Test func intOrStringPicksTheFormByType() throws {
        func targetPort(_ value: Proto) throws -> JSONValue? {
            let port = Proto().varint(3, 80).message(4, value)
            let service = Proto().message(2, Proto().message(1, port))
            let decoded = try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Service", service))
            guard case .array(let ports) = decoded["spec"]?["ports"] else { return nil }
            return ports.first?["targetPort"]
        }
        #expect(try targetPort(intOrString(number: 8080)) == .integer(8080))
        #expect(try targetPort(intOrString(text: "web")) == .string("web"))
        // A zero int is Go's unset value for the plain targetPort field: left for defaulting.
        #expect(try targetPort(intOrString(number: 0)) == nil)
    }

    @Test func managedFieldsAreIgnoredAndZeroUnknownFieldsSkipped() throws {
        let metadata = Proto().string(1, "cm")
            .message(17, Proto().string(1, "kubectl").string(2, "Update"))
            .string(99, "").varint(98, 0)
        let decoded = try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "ConfigMap", Proto().message(1, metadata)))
        #expect(decoded == .object(["apiVersion": .string("v1"), "kind": .string("ConfigMap"), "metadata": .object(["name": .string("cm")])]))
    }

    // MARK: Known-bad bodies

    @Test func badMagicIsMalformed() throws {
        var body = try bytes(Self.deploymentHex)
        body[2] = 0x74
        let error = try #require(throws: KubeProtobufError.self) { try KubeProtobuf.decodeObject(body) }
        #expect(error.reason == .malformed)
        #expect(error.offset == 0)
        #expect(error.message.contains("magic"))
        #expect(throws: KubeProtobufError.self) { try KubeProtobuf.decodeObject([0x6B, 0x38]) }
        #expect(throws: KubeProtobufError.self) { try KubeProtobuf.decodeObject(Array(#"{"kind":"Pod"}"#.utf8)) }
    }

    @Test func everyTruncationInsideTheObjectIsMalformed() throws {
        let body = try bytes(Self.deploymentHex)
        // The object's raw bytes end 4 bytes before the body does (empty contentEncoding and
        // contentType follow); cutting anywhere before that must fail cleanly.
        let rawEnd = body.count - 4
        for length in 0..<rawEnd {
            let error = try #require(throws: KubeProtobufError.self, "prefix of \(length) bytes") {
                try KubeProtobuf.decodeObject(Array(body[0..<length]))
            }
            #expect(error.reason == .malformed, "prefix of \(length) bytes: \(error.message)")
            #expect(error.offset <= length, "prefix of \(length) bytes: offset \(error.offset)")
        }
        #expect(try KubeProtobuf.decodeObject(Array(body[0..<rawEnd]))["kind"] == .string("Deployment"))
    }

    @Test func mutatedBodiesThrowOrDecodeButNeverCrash() throws {
        let body = try bytes(Self.deploymentHex)
        var failures = 0
        for position in body.indices {
            for replacement: UInt8 in [0x00, 0x07, 0x7F, 0x80, 0xFF] where body[position] != replacement {
                var mutated = body
                mutated[position] = replacement
                do { _ = try KubeProtobuf.decodeObject(mutated) } catch { failures += 1 }
            }
        }
        // Most single-byte changes break a length, a tag or the magic.
        #expect(failures > body.count)
    }

    @Test func lengthPastTheEndIsMalformedWithItsOffset() throws {
        let metadata = Proto().string(1, "x")
        var object = Proto().message(1, metadata).bytes
        object[1] = 0x40  // metadata claims 64 bytes; 3 follow
        let error = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Namespace", Proto(bytes: object)))
        }
        #expect(error.reason == .malformed)
        #expect(error.message.contains("length 64 runs past the end"))
        #expect(error.message.contains("Namespace (Namespace)"))
    }

    @Test func wrongWireTypeIsMalformed() throws {
        let metadata = Proto().varint(1, 7)  // name is a string, sent as a varint
        let error = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Namespace", Proto().message(1, metadata)))
        }
        #expect(error.reason == .malformed)
        #expect(error.message.contains("field 1 of ObjectMeta (Namespace.metadata.name) has varint wire type, expected length-delimited"))
    }

    @Test func malformedScalarsAreRejected() throws {
        func namespace(_ metadata: Proto) throws -> KubeProtobufError {
            try #require(throws: KubeProtobufError.self) {
                try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Namespace", Proto().message(1, metadata)))
            }
        }
        #expect(try namespace(Proto().bytes(1, [0xC3, 0x28])).message.contains("not valid UTF-8"))
        #expect(try namespace(Proto(bytes: [0x38] + [UInt8](repeating: 0xFF, count: 10) + [0x01])).message.contains("64 bits"))
        #expect(try namespace(Proto(bytes: [0x0B])).message.contains("start-group"))
        #expect(try namespace(Proto(bytes: [0x0E, 0x00])).message.contains("unknown wire type 6"))
        #expect(try namespace(Proto().message(8, Proto().varint(1, UInt64(bitPattern: -70_000_000_000)))).message
            .contains("outside years 0001 to 9999"))
        let service = Proto().message(2, Proto().message(1, Proto().varint(3, 80).message(4, Proto().varint(1, 2))))
        let error = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Service", service))
        }
        #expect(error.message.contains("IntOrString type 2"))
    }

    @Test func unknownKindsAndVersionsAskForJSON() throws {
        for (apiVersion, kind) in [("v1", "Widget"), ("extensions/v1beta1", "Deployment"), ("apps/v1", "Pod")] {
            let error = try #require(throws: KubeProtobufError.self) {
                try KubeProtobuf.decodeObject(body(apiVersion: apiVersion, kind: kind, Proto()))
            }
            #expect(error.reason == .unsupportedKind)
            #expect(error.message == "protobuf objects of kind \"\(kind)\" in apiVersion \"\(apiVersion)\" are not supported "
                + "by this apiserver; send JSON instead (kubectl create -f / apply)")
        }
        let noKind = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "", Proto()))
        }
        #expect(noKind.reason == .malformed)
    }

    @Test func unknownFieldWithDataIsNamed() throws {
        let metadata = Proto().string(1, "cm").string(99, "surprise")
        let error = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "ConfigMap", Proto().message(1, metadata)))
        }
        #expect(error.reason == .unsupportedField)
        #expect(error.message.hasPrefix("protobuf field 99 of ObjectMeta (at ConfigMap.metadata, byte "))
        #expect(error.message.hasSuffix("is not supported by this apiserver; send JSON instead (kubectl create -f / apply)"))
        let deepError = try #require(throws: KubeProtobufError.self) {
            let container = Proto().string(1, "c").varint(77, 1)
            let spec = Proto().message(2, container)
            return try KubeProtobuf.decodeObject(body(apiVersion: "v1", kind: "Pod", Proto().message(2, spec)))
        }
        #expect(deepError.message.hasPrefix("protobuf field 77 of Container (at Pod.spec.containers[0], byte "))
    }

    @Test func encodedEnvelopesAreUnsupported() throws {
        let envelope = Proto()
            .message(1, Proto().string(1, "v1").string(2, "ConfigMap"))
            .bytes(2, [0x1F, 0x8B])
            .string(3, "gzip")
        let error = try #require(throws: KubeProtobufError.self) {
            try KubeProtobuf.decodeObject([0x6B, 0x38, 0x73, 0x00] + envelope.bytes)
        }
        #expect(error.reason == .unsupportedKind)
        #expect(error.message.contains("content encoding \"gzip\""))
    }
}

// MARK: Helpers

/// A tiny proto2 writer for hand-built test bodies.
private struct Proto {
    var bytes: [UInt8] = []

    func varint(_ number: Int, _ value: UInt64) -> Proto {
        var copy = self
        copy.appendVarint(UInt64(number << 3))
        copy.appendVarint(value)
        return copy
    }

    func bytes(_ number: Int, _ data: [UInt8]) -> Proto {
        var copy = self
        copy.appendVarint(UInt64(number << 3 | 2))
        copy.appendVarint(UInt64(data.count))
        copy.bytes += data
        return copy
    }

    func string(_ number: Int, _ text: String) -> Proto { bytes(number, Array(text.utf8)) }
    func message(_ number: Int, _ message: Proto) -> Proto { bytes(number, message.bytes) }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}

/// A whole body: magic, then a runtime.Unknown envelope around `object`.
private func body(apiVersion: String, kind: String, _ object: Proto) -> [UInt8] {
    let envelope = Proto()
        .message(1, Proto().string(1, apiVersion).string(2, kind))
        .message(2, object)
        .string(3, "").string(4, "")
    return [0x6B, 0x38, 0x73, 0x00] + envelope.bytes
}

private func intOrString(number: Int32) -> Proto {
    Proto().varint(1, 0).varint(2, UInt64(bitPattern: Int64(number))).string(3, "")
}

private func intOrString(text: String) -> Proto {
    Proto().varint(1, 1).varint(2, 0).string(3, text)
}

private struct HexError: Error { let text: String }

/// The bytes of a hex string (two digits a byte).
private func bytes(_ hex: String) throws -> [UInt8] {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { throw HexError(text: hex) }
    var output: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            throw HexError(text: hex)
        }
        output.append(byte)
    }
    return output
}
