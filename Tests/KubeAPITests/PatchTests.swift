//! PatchTests: the four patch formats kubectl sends. RFC 7386 Appendix A and RFC 6902
//! Appendix A cases; the exact payloads of kubectl-compat.md (apply with `$setElementOrder`,
//! cordon/uncordon, taint and its removal, label removal, scale, rollout undo); every
//! strategic-merge directive and merge key of the table; and the malformed patches that must be
//! refused, with the status the shell answers.

import KubeAPI
import Testing
import Wire

private func json(_ text: String) throws -> JSONValue { try JSON.parse(text) }

/// The strategic-merge directive keys anywhere in `value`; a result must have none.
private func directiveKeys(in value: JSONValue) -> [String] {
    switch value {
    case .object(let members):
        return members.members.flatMap { key, member -> [String] in
            let isDirective = key == "$patch" || key == "$retainKeys" || key.hasPrefix("$setElementOrder/")
                || key.hasPrefix("$deleteFromPrimitiveList/")
            return (isDirective ? [key] : []) + directiveKeys(in: member)
        }
    case .array(let elements):
        return elements.flatMap(directiveKeys)
    default:
        return []
    }
}

/// Applies a strategic merge patch and checks that no directive survived.
private func smp(_ patch: String, to original: String, kind: String) throws -> JSONValue {
    let result = try StrategicMergePatch.apply(try json(patch), to: try json(original), kind: kind)
    #expect(directiveKeys(in: result).isEmpty, "directives left in \(JSON.serialize(result))")
    return result
}

private func smpFailure(_ patch: String, to original: String, kind: String) throws -> PatchError? {
    let patchValue = try json(patch)
    let originalValue = try json(original)
    do {
        _ = try StrategicMergePatch.apply(patchValue, to: originalValue, kind: kind)
        return nil
    } catch {
        return error
    }
}

private func jsonPatch(_ operations: String, to document: String) throws -> JSONValue {
    try JSONPatch(try json(operations)).apply(to: try json(document))
}

private func jsonPatchFailure(_ operations: String, to document: String) throws -> PatchError? {
    let operationsValue = try json(operations)
    let documentValue = try json(document)
    do {
        _ = try JSONPatch(operationsValue).apply(to: documentValue)
        return nil
    } catch {
        return error
    }
}

// MARK: - RFC 7386

@Suite struct MergePatchTests {
    /// RFC 7386 Appendix A, every row: (target, patch, result).
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func rfc7386AppendixA(target: String, patch: String, result: String) throws {
        #expect(MergePatch.apply(try json(patch), to: try json(target)) == (try json(result)))
    }

    @Test func labelAndItsRemovalAsKubectlLabelSendsThem() throws {
        let node = try json(#"{"kind":"Node","metadata":{"name":"node1","labels":{"kubernetes.io/hostname":"node1"}}}"#)
        let labelled = try PatchKind.apply(.mergePatch, patch: try json(#"{"metadata":{"labels":{"disk":"ssd"}}}"#), to: node)
        #expect(labelled == (try json(#"{"kind":"Node","metadata":{"name":"node1","labels":{"kubernetes.io/hostname":"node1","disk":"ssd"}}}"#)))
        let unlabelled = try PatchKind.apply(.mergePatch, patch: try json(#"{"metadata":{"labels":{"disk":null}}}"#), to: labelled)
        #expect(unlabelled == node)
    }

    @Test func scaleReplacesTheReplicaCountAndKeepsTheRest() throws {
        let scale = try json(#"{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web"},"spec":{"replicas":2},"status":{"replicas":2}}"#)
        let scaled = try PatchKind.apply(.mergePatch, patch: try json(#"{"spec":{"replicas":5}}"#), to: scale)
        #expect(scaled["spec"]?["replicas"] == .integer(5))
        #expect(scaled["status"] == scale["status"])
        #expect(scaled["metadata"] == scale["metadata"])
    }

    @Test func mergePatchReplacesListsWhole() throws {
        let pod = try json(#"{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b"}]}}"#)
        let patched = MergePatch.apply(try json(#"{"spec":{"containers":[{"name":"a","image":"2"}]}}"#), to: pod)
        #expect(patched == (try json(#"{"spec":{"containers":[{"name":"a","image":"2"}]}}"#)))
    }
}

// MARK: - RFC 6902

@Suite struct JSONPatchTests {
    @Test func addObjectMember() throws {  // A.1
        #expect(try jsonPatch(#"[{"op":"add","path":"/baz","value":"qux"}]"#, to: #"{"foo":"bar"}"#)
            == (try json(#"{"foo":"bar","baz":"qux"}"#)))
    }

    @Test func addArrayElement() throws {  // A.2
        #expect(try jsonPatch(#"[{"op":"add","path":"/foo/1","value":"qux"}]"#, to: #"{"foo":["bar","baz"]}"#)
            == (try json(#"{"foo":["bar","qux","baz"]}"#)))
    }

    @Test func removeObjectMember() throws {  // A.3
        #expect(try jsonPatch(#"[{"op":"remove","path":"/baz"}]"#, to: #"{"baz":"qux","foo":"bar"}"#) == (try json(#"{"foo":"bar"}"#)))
    }

    @Test func removeArrayElement() throws {  // A.4
        #expect(try jsonPatch(#"[{"op":"remove","path":"/foo/1"}]"#, to: #"{"foo":["bar","qux","baz"]}"#)
            == (try json(#"{"foo":["bar","baz"]}"#)))
    }

    @Test func replaceValueKeepsTheMemberInPlace() throws {  // A.5
        #expect(try jsonPatch(#"[{"op":"replace","path":"/baz","value":"boo"}]"#, to: #"{"baz":"qux","foo":"bar"}"#)
            == (try json(#"{"baz":"boo","foo":"bar"}"#)))
    }

    @Test func moveValue() throws {  // A.6
        #expect(try jsonPatch(#"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
            to: #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#)
            == (try json(#"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#)))
    }

    @Test func moveArrayElement() throws {  // A.7
        #expect(try jsonPatch(#"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, to: #"{"foo":["all","grass","cows","eat"]}"#)
            == (try json(#"{"foo":["all","cows","eat","grass"]}"#)))
    }

    @Test func testSucceedsOnEqualValues() throws {  // A.8
        let document = #"{"baz":"qux","foo":["a",2,"c"]}"#
        #expect(try jsonPatch(#"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#, to: document)
            == (try json(document)))
    }

    @Test func testFailsOnADifferentValue() throws {  // A.9
        let failure = try jsonPatchFailure(#"[{"op":"test","path":"/baz","value":"bar"}]"#, to: #"{"baz":"qux"}"#)
        #expect(failure?.message == #"operation 0 (test): testing value /baz failed: expected "bar", found "qux""#)
        #expect(failure?.reason == .notApplicable)
    }

    @Test func addNestedMember() throws {  // A.10
        #expect(try jsonPatch(#"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, to: #"{"foo":"bar"}"#)
            == (try json(#"{"foo":"bar","child":{"grandchild":{}}}"#)))
    }

    @Test func unrecognizedMembersAreIgnored() throws {  // A.11
        #expect(try jsonPatch(#"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, to: #"{"foo":"bar"}"#)
            == (try json(#"{"foo":"bar","baz":"qux"}"#)))
    }

    @Test func addToANonexistentTargetFails() throws {  // A.12
        let failure = try jsonPatchFailure(#"[{"op":"add","path":"/baz/bat","value":"qux"}]"#, to: #"{"foo":"bar"}"#)
        #expect(failure?.message == "operation 0 (add): doc is missing path: /baz/bat")
    }

    @Test func tildeEscapesDecodeInOrder() throws {  // A.14, A.15
        let document = #"{"/":9,"~1":10}"#
        #expect(try jsonPatch(#"[{"op":"test","path":"/~01","value":10}]"#, to: document) == (try json(document)))
        #expect(try jsonPatchFailure(#"[{"op":"test","path":"/~01","value":"10"}]"#, to: document)?.reason == .notApplicable)
        #expect(try jsonPatch(#"[{"op":"test","path":"/~1","value":9}]"#, to: document) == (try json(document)))
    }

    @Test func addAnArrayValueWithDash() throws {  // A.16
        #expect(try jsonPatch(#"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, to: #"{"foo":["bar"]}"#)
            == (try json(#"{"foo":["bar",["abc","def"]]}"#)))
    }

    @Test func copyDuplicatesAValue() throws {
        #expect(try jsonPatch(#"[{"op":"copy","from":"/a","path":"/b/0"}]"#, to: #"{"a":{"x":1},"b":[2]}"#)
            == (try json(#"{"a":{"x":1},"b":[{"x":1},2]}"#)))
    }

    @Test func theRootCanBeReplacedAndTestedButNotRemoved() throws {
        #expect(try jsonPatch(#"[{"op":"replace","path":"","value":[1]}]"#, to: #"{"a":1}"#) == (try json("[1]")))
        #expect(try jsonPatch(#"[{"op":"add","path":"","value":{"b":2}}]"#, to: #"{"a":1}"#) == (try json(#"{"b":2}"#)))
        #expect(try jsonPatch(#"[{"op":"test","path":"","value":{"a":1}}]"#, to: #"{"a":1}"#) == (try json(#"{"a":1}"#)))
        #expect(try jsonPatchFailure(#"[{"op":"remove","path":""}]"#, to: #"{"a":1}"#)?.message
            == "operation 0 (remove): cannot remove the whole document")
    }

    @Test func valuesCompareAsRFC6902SaysNotByteForByte() throws {
        #expect(try jsonPatch(#"[{"op":"test","path":"/n","value":1.0},{"op":"test","path":"/o","value":{"b":2,"a":1}}]"#,
            to: #"{"n":1,"o":{"a":1,"b":2}}"#) == (try json(#"{"n":1,"o":{"a":1,"b":2}}"#)))
        #expect(JSONPatch.valuesEqual(.integer(1), .number(1.0)))
        #expect(!JSONPatch.valuesEqual(.integer(1), .number(1.5)))
        #expect(!JSONPatch.valuesEqual(try json("[1,2]"), try json("[2,1]")))
        #expect(!JSONPatch.valuesEqual(try json(#"{"a":1}"#), try json(#"{"a":1,"b":null}"#)))
        #expect(!JSONPatch.valuesEqual(.string("1"), .integer(1)))
    }

    @Test func errorsNameTheOperationAndThePath() throws {
        let document = #"{"spec":{"list":[1,2]}}"#
        #expect(try jsonPatchFailure(#"[{"op":"test","path":"/spec/list/0","value":1},{"op":"replace","path":"/spec/x","value":1}]"#, to: document)?.message
            == "operation 1 (replace): doc is missing path: /spec/x")
        #expect(try jsonPatchFailure(#"[{"op":"remove","path":"/spec/x"}]"#, to: document)?.message
            == "operation 0 (remove): doc is missing path: /spec/x")
        #expect(try jsonPatchFailure(#"[{"op":"replace","path":"/spec/list/2","value":0}]"#, to: document)?.message
            == "operation 0 (replace): index 2 is out of bounds in /spec/list/2: the array has 2 elements")
        #expect(try jsonPatchFailure(#"[{"op":"add","path":"/spec/list/3","value":0}]"#, to: document)?.message
            == "operation 0 (add): index 3 is out of bounds in /spec/list/3: the array has 2 elements")
        #expect(try jsonPatchFailure(#"[{"op":"add","path":"/spec/list/01","value":0}]"#, to: document)?.message
            == #"operation 0 (add): invalid array index "01" in /spec/list/01"#)
        #expect(try jsonPatchFailure(#"[{"op":"remove","path":"/spec/list/-"}]"#, to: document)?.message
            == #"operation 0 (remove): invalid array index "-" in /spec/list/-"#)
        #expect(try jsonPatchFailure(#"[{"op":"move","from":"/spec","path":"/spec/list/child"}]"#, to: document)?.message
            == "operation 0 (move): cannot move /spec into its own child /spec/list/child")
        #expect(try jsonPatchFailure(#"[{"op":"copy","from":"/nope","path":"/x"}]"#, to: document)?.message
            == "operation 0 (copy): doc is missing from path: /nope")
        #expect(try jsonPatchFailure(#"[{"op":"add","path":"/spec/list/0/deeper","value":0}]"#, to: document)?.message
            == "operation 0 (add): doc is missing path: /spec/list/0/deeper")
    }

    @Test func addingAtTheEndIndexAppendsAndNullIsAValue() throws {
        #expect(try jsonPatch(#"[{"op":"add","path":"/l/2","value":3},{"op":"add","path":"/n","value":null}]"#, to: #"{"l":[1,2]}"#)
            == (try json(#"{"l":[1,2,3],"n":null}"#)))
        #expect(try jsonPatch(#"[{"op":"move","from":"/a","path":"/a"}]"#, to: #"{"a":1}"#) == (try json(#"{"a":1}"#)))
    }

    @Test func aFailingPatchChangesNothing() throws {
        let document = try json(#"{"a":1}"#)
        let patch = try JSONPatch(try json(#"[{"op":"replace","path":"/a","value":2},{"op":"test","path":"/a","value":1}]"#))
        #expect(throws: PatchError.self) { try patch.apply(to: document) }
        #expect(document == (try json(#"{"a":1}"#)))
    }

    @Test func malformedPatchDocumentsAreRefusedBeforeApplying() throws {
        func decodeFailure(_ text: String) throws -> PatchError? {
            let document = try json(text)
            do {
                _ = try JSONPatch(document)
                return nil
            } catch {
                return error
            }
        }
        #expect(try decodeFailure(#"{"op":"add"}"#)?.message == "a JSON patch must be an array of operations, found object")
        #expect(try decodeFailure(#"[1]"#)?.message == "operation 0: must be an object, found integer")
        #expect(try decodeFailure(#"[{"path":"/a"}]"#)?.message == #"operation 0: missing "op" (a string)"#)
        #expect(try decodeFailure(#"[{"op":"frob","path":"/a"}]"#)?.message
            == #"operation 0: unknown op "frob" (expected add, remove, replace, move, copy or test)"#)
        #expect(try decodeFailure(#"[{"op":"remove"}]"#)?.message == #"operation 0 (remove): missing "path" (a string)"#)
        #expect(try decodeFailure(#"[{"op":"add","path":"/a"}]"#)?.message == #"operation 0 (add): missing "value""#)
        #expect(try decodeFailure(#"[{"op":"test","path":"/a"}]"#)?.message == #"operation 0 (test): missing "value""#)
        #expect(try decodeFailure(#"[{"op":"move","path":"/a"}]"#)?.message == #"operation 0 (move): missing "from" (a string)"#)
        #expect(try decodeFailure(#"[{"op":"remove","path":"a/b"}]"#)?.message
            == #"operation 0 (remove): invalid JSON pointer "a/b": it must be empty or start with '/'"#)
        #expect(try decodeFailure(#"[{"op":"remove","path":"/a~2"}]"#)?.message
            == #"operation 0 (remove): invalid JSON pointer "/a~2": '~2' is not an escape (use ~0 or ~1)"#)
        #expect(try decodeFailure(#"[{"op":"remove","path":"/a~"}]"#)?.reason == .malformed)
        #expect(try decodeFailure(#"[{"op":"remove","path":"/a"}]"#) == nil)
        #expect(try decodeFailure("[]") == nil)
    }

    @Test func pointersRoundTripTheirEscapes() throws {
        let pointer = try JSONPointer(parsing: "/a~1b/c~0d/-/0")
        #expect(pointer.tokens == ["a/b", "c~d", "-", "0"])
        #expect(pointer.description == "/a~1b/c~0d/-/0")
        #expect(try JSONPointer(parsing: "").tokens.isEmpty)
        #expect(try JSONPointer(parsing: "/").tokens == [""])
        #expect(JSONPatch.value(at: try JSONPointer(parsing: "/"), in: try json(#"{"":5}"#)) == .integer(5))
        #expect(JSONPatch.value(at: try JSONPointer(parsing: "/a/1"), in: try json(#"{"a":[0,7]}"#)) == .integer(7))
        #expect(JSONPatch.value(at: try JSONPointer(parsing: "/a/2"), in: try json(#"{"a":[0,7]}"#)) == nil)
    }

    /// kubectl-compat §5.15: `rollout undo` replaces the template and the annotations.
    @Test func rolloutUndoReplacesTheTemplateAndAnnotations() throws {
        let deployment = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","namespace":"default","generation":2,
               "annotations":{"deployment.kubernetes.io/revision":"2","note":"x"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}
            """#)
        let undo = try json(#"""
            [{"op":"replace","path":"/spec/template","value":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
               "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","resources":{}}],"restartPolicy":"Always"}}},
             {"op":"replace","path":"/metadata/annotations","value":{"deployment.kubernetes.io/revision":"1"}}]
            """#)
        let rolledBack = try PatchKind.apply(.jsonPatch, patch: undo, to: deployment)
        #expect(rolledBack == (try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","namespace":"default","generation":2,
               "annotations":{"deployment.kubernetes.io/revision":"1"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","resources":{}}],"restartPolicy":"Always"}}}}
            """#)))
    }
}

// MARK: - Strategic merge: kubectl's payloads

private let deploymentWeb = #"""
    {"apiVersion":"apps/v1","kind":"Deployment",
     "metadata":{"name":"web","namespace":"default","uid":"d-1",
       "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{old}\n"}},
     "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
       "template":{"metadata":{"labels":{"app":"web"}},
         "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{}}],
           "restartPolicy":"Always"}}},
     "status":{"replicas":2}}
    """#

private let nodeTwo = #"""
    {"kind":"Node","apiVersion":"v1","metadata":{"name":"node2","labels":{"kubernetes.io/hostname":"node2"}},
     "spec":{"podCIDR":"10.244.1.0/24"},
     "status":{"conditions":[{"type":"Ready","status":"True"}]}}
    """#

@Suite struct KubectlStrategicMergeTests {
    /// kubectl-compat §5.10: client-side apply of a changed image and replica count.
    @Test func applyPatchWithSetElementOrderMergesTheContainerByName() throws {
        let patch = #"""
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{new}\n"}},"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.27","name":"nginx"}]}}}}
            """#
        let applied = try smp(patch, to: deploymentWeb, kind: "Deployment")
        #expect(applied == (try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","namespace":"default","uid":"d-1",
               "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{new}\n"}},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{}}],
                   "restartPolicy":"Always"}}},
             "status":{"replicas":2}}
            """#)))
        // The same patch through the Content-Type entry point, the Kind read from the object.
        let viaKind = try PatchKind.apply(try PatchKind(contentType: "application/strategic-merge-patch+json"), patch: try json(patch), to: try json(deploymentWeb))
        #expect(viaKind == applied)
    }

    /// Fields removed from the manifest arrive as null.
    @Test func applyDeletesFieldsSentAsNull() throws {
        let applied = try smp(#"{"spec":{"template":{"spec":{"restartPolicy":null}}},"status":null}"#, to: deploymentWeb, kind: "Deployment")
        #expect(applied["spec"]?["template"]?["spec"]?["restartPolicy"] == nil)
        #expect(applied["spec"]?["template"]?["spec"]?["containers"] != nil)
        #expect(applied["status"] == nil)
    }

    /// kubectl-compat §5.16.
    @Test func cordonAndUncordon() throws {
        let cordoned = try smp(#"{"spec":{"unschedulable":true}}"#, to: nodeTwo, kind: "Node")
        #expect(cordoned["spec"] == (try json(#"{"podCIDR":"10.244.1.0/24","unschedulable":true}"#)))
        let uncordoned = try StrategicMergePatch.apply(try json(#"{"spec":{"unschedulable":null}}"#), to: cordoned, kind: "Node")
        #expect(uncordoned == (try json(nodeTwo)))
    }

    /// kubectl-compat §5.18: taints are replaced whole, and null removes them.
    @Test func taintReplacesTheListAndItsRemovalDeletesIt() throws {
        let tainted = try smp(#"{"spec":{"taints":[{"effect":"NoSchedule","key":"dedicated","value":"gpu"}]}}"#, to: nodeTwo, kind: "Node")
        #expect(tainted["spec"]?["taints"] == (try json(#"[{"effect":"NoSchedule","key":"dedicated","value":"gpu"}]"#)))
        let retainted = try StrategicMergePatch.apply(
            try json(#"{"spec":{"taints":[{"effect":"NoExecute","key":"other"}]}}"#), to: tainted, kind: "Node")
        #expect(retainted["spec"]?["taints"] == (try json(#"[{"effect":"NoExecute","key":"other"}]"#)))
        let untainted = try StrategicMergePatch.apply(try json(#"{"spec":{"taints":null}}"#), to: tainted, kind: "Node")
        #expect(untainted == (try json(nodeTwo)))
    }

    @Test func nodeConditionsMergeByType() throws {
        let patched = try smp(#"{"status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"False"}]}}"#,
            to: nodeTwo, kind: "Node")
        #expect(patched["status"]?["conditions"] == (try json(#"[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"False"}]"#)))
    }

    /// Server-side apply: a missing object is created from the patch; a present one is merged.
    @Test func applyPatchIsAnUpsert() throws {
        let manifest = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
             "spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}
            """#)
        let applyKind = try PatchKind(contentType: "application/apply-patch+yaml")
        #expect(applyKind == .applyPatch)
        #expect(try PatchKind.apply(applyKind, patch: manifest, to: .null) == manifest)
        let merged = try PatchKind.apply(applyKind, patch: manifest, to: try json(deploymentWeb))
        #expect(merged["spec"]?["replicas"] == .integer(4))
        #expect(merged["metadata"]?["uid"] == .string("d-1"))
        #expect(merged["spec"]?["template"]?["spec"]?["containers"] == (try json(
            #"[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{}}]"#)))
    }
}

// MARK: - Strategic merge: the merge-key table

private let podP = #"""
    {"kind":"Pod","metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["a","b"],
       "ownerReferences":[{"uid":"u1","kind":"ReplicaSet","name":"rs1","controller":true}]},
     "spec":{"containers":[
        {"name":"app","image":"app:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
         "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}],
         "volumeMounts":[{"name":"data","mountPath":"/data"}]},
        {"name":"sidecar","image":"side:1"}],
       "initContainers":[{"name":"init","image":"init:1"}],
       "volumes":[{"name":"data","emptyDir":{}}],
       "imagePullSecrets":[{"name":"reg"}],
       "tolerations":[{"key":"a","operator":"Exists"}]},
     "status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}}
    """#

private func podContainer(_ pod: JSONValue, _ position: Int) -> JSONValue? {
    guard case .array(let containers)? = pod["spec"]?["containers"], position < containers.count else { return nil }
    return containers[position]
}

@Suite struct StrategicMergeKeyTests {
    @Test func containersMergeByNameKeepingWhatThePatchDoesNotSay() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"app","image":"app:2"}]}}"#, to: podP, kind: "Pod")
        #expect(podContainer(patched, 0)?["image"] == .string("app:2"))
        #expect(podContainer(patched, 0)?["env"] == podContainer(try json(podP), 0)?["env"])
        #expect(podContainer(patched, 1) == podContainer(try json(podP), 1))
    }

    @Test func aNewContainerIsAddedAheadOfServerOnlyOnesAsKubernetesOrdersThem() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"new","image":"n:1"}]}}"#, to: podP, kind: "Pod")
        let names = (patched["spec"]?["containers"]).flatMap { list -> [String]? in
            guard case .array(let containers) = list else { return nil }
            return containers.compactMap { if case .string(let name)? = $0["name"] { name } else { nil } }
        }
        #expect(names == ["new", "app", "sidecar"])
    }

    @Test func initContainersMergeByNameToo() throws {
        let patched = try smp(#"{"spec":{"initContainers":[{"name":"init","image":"init:2"}]}}"#, to: podP, kind: "Pod")
        #expect(patched["spec"]?["initContainers"] == (try json(#"[{"name":"init","image":"init:2"}]"#)))
    }

    @Test func envMergesByNameInsideTheContainer() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}"#,
            to: podP, kind: "Pod")
        #expect(podContainer(patched, 0)?["env"] == (try json(#"[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]"#)))
    }

    @Test func portsMergeByContainerPort() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"app","ports":[{"containerPort":443,"name":"https"}]}]}}"#,
            to: podP, kind: "Pod")
        #expect(podContainer(patched, 0)?["ports"] == (try json(#"[{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"name":"https"}]"#)))
    }

    @Test func volumeMountsMergeByMountPath() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"app","volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}}"#,
            to: podP, kind: "Pod")
        #expect(podContainer(patched, 0)?["volumeMounts"] == (try json(#"[{"name":"data","mountPath":"/data","readOnly":true}]"#)))
    }

    @Test func volumesAndImagePullSecretsMergeByName() throws {
        let patched = try smp(#"{"spec":{"volumes":[{"name":"cache","emptyDir":{}}],"imagePullSecrets":[{"name":"reg"}]}}"#,
            to: podP, kind: "Pod")
        #expect(patched["spec"]?["volumes"] == (try json(#"[{"name":"cache","emptyDir":{}},{"name":"data","emptyDir":{}}]"#)))
        #expect(patched["spec"]?["imagePullSecrets"] == (try json(#"[{"name":"reg"}]"#)))
    }

    @Test func tolerationsAreReplacedWhole() throws {
        let patched = try smp(#"{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}"#, to: podP, kind: "Pod")
        #expect(patched["spec"]?["tolerations"] == (try json(#"[{"key":"b","operator":"Exists"}]"#)))
    }

    @Test func podConditionsMergeByType() throws {
        let patched = try smp(#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#, to: podP, kind: "Pod")
        #expect(patched["status"]?["conditions"] == (try json(#"[{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}]"#)))
        #expect(patched["status"]?["phase"] == .string("Running"))
    }

    @Test func ownerReferencesMergeByUID() throws {
        let patched = try smp(#"{"metadata":{"ownerReferences":[{"uid":"u1","controller":false}]}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["ownerReferences"] == (try json(#"[{"uid":"u1","kind":"ReplicaSet","name":"rs1","controller":false}]"#)))
    }

    @Test func finalizersMergeAsASet() throws {
        let patched = try smp(#"{"metadata":{"finalizers":["c","a"]}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["finalizers"] == (try json(#"["c","a","b"]"#)))
        // Kubernetes' own case: [1,2,3] patched with [3,1] gives [2,3,1].
        let numbers = try smp(#"{"metadata":{"finalizers":["3","1"]}}"#, to: #"{"metadata":{"finalizers":["1","2","3"]}}"#, kind: "Pod")
        #expect(numbers["metadata"]?["finalizers"] == (try json(#"["2","3","1"]"#)))
    }

    @Test func serviceAndNodeListsUseTheirOwnKeys() throws {
        let service = try smp(#"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#,
            to: #"{"kind":"Service","spec":{"ports":[{"port":80,"targetPort":8080,"protocol":"TCP"},{"port":443}]}}"#, kind: "Service")
        #expect(service["spec"]?["ports"] == (try json(#"[{"port":80,"targetPort":9090,"protocol":"TCP"},{"port":443}]"#)))
        let node = try smp(#"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"}]}}"#,
            to: #"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"},{"type":"Hostname","address":"n"}]}}"#, kind: "Node")
        #expect(node["status"]?["addresses"] == (try json(#"[{"type":"InternalIP","address":"10.0.0.9"},{"type":"Hostname","address":"n"}]"#)))
    }

    @Test func theParentTypeDecidesNotTheFieldNameAlone() throws {
        // A Deployment's containers live under spec.template.spec; spec.containers means nothing
        // there and is replaced like any unknown list.
        let template = try smp(#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"s"}]}}}}"#,
            to: deploymentWeb, kind: "Deployment")
        guard case .array(let containers)? = template["spec"]?["template"]?["spec"]?["containers"] else {
            Issue.record("no containers in \(JSON.serialize(template))")
            return
        }
        #expect(containers.count == 2)
        let flat = try smp(#"{"spec":{"containers":[{"name":"b"}]}}"#, to: #"{"spec":{"containers":[{"name":"a"}]}}"#, kind: "Deployment")
        #expect(flat["spec"]?["containers"] == (try json(#"[{"name":"b"}]"#)))
        // A Pod has no template: its spec.template.spec.containers is replaced.
        let podTemplate = try smp(#"{"spec":{"template":{"spec":{"containers":[{"name":"b"}]}}}}"#,
            to: #"{"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}}}"#, kind: "Pod")
        #expect(podTemplate["spec"]?["template"]?["spec"]?["containers"] == (try json(#"[{"name":"b"}]"#)))
    }

    @Test func theTableResolvesPathsPerKind() {
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "containers"]) == .mergeByKey("name"))
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "containers", "ports"]) == .mergeByKey("containerPort"))
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "containers", "volumeMounts"]) == .mergeByKey("mountPath"))
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "ephemeralContainers", "env"]) == .mergeByKey("name"))
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "tolerations"]) == .replace)
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: ["spec", "template", "spec", "containers"]) == .replace)
        for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Job"] {
            #expect(StrategicMergePatch.listStrategy(kind: kind, path: ["spec", "template", "spec", "containers"]) == .mergeByKey("name"), "\(kind)")
            #expect(StrategicMergePatch.listStrategy(kind: kind, path: ["spec", "containers"]) == .replace, "\(kind)")
        }
        #expect(StrategicMergePatch.listStrategy(kind: "CronJob", path: ["spec", "jobTemplate", "spec", "template", "spec", "initContainers"])
            == .mergeByKey("name"))
        #expect(StrategicMergePatch.listStrategy(kind: "PodTemplate", path: ["template", "spec", "volumes"]) == .mergeByKey("name"))
        #expect(StrategicMergePatch.listStrategy(kind: "Service", path: ["spec", "ports"]) == .mergeByKey("port"))
        #expect(StrategicMergePatch.listStrategy(kind: "Node", path: ["spec", "taints"]) == .replace)
        #expect(StrategicMergePatch.listStrategy(kind: "Node", path: ["status", "addresses"]) == .mergeByKey("type"))
        #expect(StrategicMergePatch.listStrategy(kind: "Deployment", path: ["status", "conditions"]) == .mergeByKey("type"))
        #expect(StrategicMergePatch.listStrategy(kind: "ConfigMap", path: ["metadata", "finalizers"]) == .mergePrimitives)
        #expect(StrategicMergePatch.listStrategy(kind: "Widget", path: ["metadata", "ownerReferences"]) == .mergeByKey("uid"))
        #expect(StrategicMergePatch.listStrategy(kind: "Widget", path: ["spec", "items"]) == .replace)
        #expect(StrategicMergePatch.listStrategy(kind: "Pod", path: []) == .replace)
    }

    @Test func anUnknownKindMergesOnlyMetadataAndStatusLists() throws {
        let patched = try smp(#"{"metadata":{"finalizers":["y"]},"spec":{"items":[{"name":"b"}]},"status":{"conditions":[{"type":"B"}]}}"#,
            to: #"{"kind":"Widget","metadata":{"finalizers":["x"]},"spec":{"items":[{"name":"a"}]},"status":{"conditions":[{"type":"A"}]}}"#,
            kind: "Widget")
        #expect(patched == (try json(#"{"kind":"Widget","metadata":{"finalizers":["y","x"]},"spec":{"items":[{"name":"b"}]},"status":{"conditions":[{"type":"B"},{"type":"A"}]}}"#)))
    }
}

// MARK: - Strategic merge: directives

@Suite struct StrategicMergeDirectiveTests {
    @Test func patchReplaceOnAnObjectReplacesIt() throws {
        let patched = try smp(#"{"metadata":{"labels":{"$patch":"replace","c":"3","d":null}}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["labels"] == (try json(#"{"c":"3"}"#)))
        #expect(patched["metadata"]?["name"] == .string("p"))
    }

    @Test func patchDeleteOnAnObjectEmptiesItAsKubernetesDoes() throws {
        let patched = try smp(#"{"metadata":{"labels":{"$patch":"delete"}}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["labels"] == (try json("{}")))
    }

    @Test func patchMergeIsTheDefault() throws {
        let patched = try smp(#"{"metadata":{"labels":{"$patch":"merge","c":"3"}}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["labels"] == (try json(#"{"a":"1","b":"2","c":"3"}"#)))
        let item = try smp(#"{"spec":{"containers":[{"name":"app","$patch":"merge","image":"app:3"}]}}"#, to: podP, kind: "Pod")
        #expect(podContainer(item, 0)?["image"] == .string("app:3"))
        #expect(podContainer(item, 0)?["env"] != nil)
    }

    @Test func patchDeleteInAListRemovesTheItemWithThatKey() throws {
        let patched = try smp(#"{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}],"volumes":[{"name":"data","$patch":"delete"}]}}"#,
            to: podP, kind: "Pod")
        #expect(patched["spec"]?["containers"] == (try json("[\(JSON.serialize(podContainer(try json(podP), 0)!))]")))
        #expect(patched["spec"]?["volumes"] == (try json("[]")))
        // Kubernetes' own case: deleting from a list with no such item leaves the server's items.
        let absent = try smp(#"{"spec":{"containers":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]}}"#,
            to: #"{"spec":{"containers":[{"name":"hello2"}]}}"#, kind: "Pod")
        #expect(absent["spec"]?["containers"] == (try json(#"[{"name":"hello"},{"name":"hello2"}]"#)))
    }

    @Test func patchReplaceInAListMakesTheListThePatchsItems() throws {
        let patched = try smp(#"{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o:1"}]}}"#, to: podP, kind: "Pod")
        #expect(patched["spec"]?["containers"] == (try json(#"[{"name":"only","image":"o:1"}]"#)))
        let emptied = try smp(#"{"spec":{"containers":[{"$patch":"replace"}]}}"#, to: podP, kind: "Pod")
        #expect(emptied["spec"]?["containers"] == (try json("[]")))
    }

    @Test func listDirectivesInAReplacedListLeaveNoTrace() throws {
        let patched = try smp(#"{"spec":{"tolerations":[{"$patch":"replace"},{"key":"x","$patch":"delete"},{"key":"y","$patch":"merge"}]}}"#,
            to: podP, kind: "Pod")
        #expect(patched["spec"]?["tolerations"] == (try json(#"[{"key":"y"}]"#)))
    }

    @Test func retainKeysDropsUnlistedMembersBeforeMerging() throws {
        let deployment = #"{"kind":"Deployment","spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}"#
        let recreate = try smp(#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}"#, to: deployment, kind: "Deployment")
        #expect(recreate["spec"] == (try json(#"{"replicas":1,"strategy":{"type":"Recreate"}}"#)))
        let surge = try smp(#"{"spec":{"strategy":{"$retainKeys":["rollingUpdate","type"],"rollingUpdate":{"maxSurge":2}}}}"#, to: deployment, kind: "Deployment")
        #expect(surge["spec"]?["strategy"] == (try json(#"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":2,"maxUnavailable":0}}"#)))
    }

    @Test func deleteFromPrimitiveListRemovesThoseValues() throws {
        let patched = try smp(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a","zzz"]}}"#, to: podP, kind: "Pod")
        #expect(patched["metadata"]?["finalizers"] == (try json(#"["b"]"#)))
        // Kubernetes' own case: add and delete in one patch, with the order given.
        let both = try smp(#"{"metadata":{"$setElementOrder/finalizers":["1","2","4"],"$deleteFromPrimitiveList/finalizers":["3"],"finalizers":["4"]}}"#,
            to: #"{"metadata":{"finalizers":["1","2","3","4"]}}"#, kind: "Pod")
        #expect(both["metadata"]?["finalizers"] == (try json(#"["1","2","4"]"#)))
        // No list, no list made.
        let none = try smp(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#, to: #"{"metadata":{"name":"x"}}"#, kind: "Pod")
        #expect(none == (try json(#"{"metadata":{"name":"x"}}"#)))
    }

    @Test func setElementOrderAloneReordersTheList() throws {
        let patched = try smp(#"{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}]}}"#, to: podP, kind: "Pod")
        let original = try json(podP)
        #expect(patched["spec"]?["containers"] == .array([podContainer(original, 1)!, podContainer(original, 0)!]))
        let finalizers = try smp(#"{"metadata":{"$setElementOrder/finalizers":["b","a"]}}"#, to: podP, kind: "Pod")
        #expect(finalizers["metadata"]?["finalizers"] == (try json(#"["b","a"]"#)))
    }

    @Test func setElementOrderInterleavesServerOnlyItemsAsKubernetesDoes() throws {
        let server = #"{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}}"#
        let patched = try smp(#"{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"d"}],"containers":[{"name":"d"}]}}"#,
            to: server, kind: "Pod")
        #expect(patched["spec"]?["containers"] == (try json(#"[{"name":"a"},{"name":"d"},{"name":"b"},{"name":"c"}]"#)))
        // Kubernetes' own case: order [4,1,2,3] over server [1,2] adding 4 and 3.
        let added = try smp(#"{"spec":{"$setElementOrder/containers":[{"name":"4"},{"name":"1"},{"name":"2"},{"name":"3"}],"containers":[{"name":"4","image":"4"},{"name":"3","image":"3"}]}}"#,
            to: #"{"spec":{"containers":[{"name":"1","image":"x"},{"name":"2","image":"y"}]}}"#, kind: "Pod")
        #expect(added["spec"]?["containers"] == (try json(#"[{"name":"4","image":"4"},{"name":"1","image":"x"},{"name":"2","image":"y"},{"name":"3","image":"3"}]"#)))
        // Items the order names but nobody has are ignored.
        let ghost = try smp(#"{"metadata":{"$setElementOrder/finalizers":["3","2","1"]}}"#, to: #"{"metadata":{"finalizers":["1","3"]}}"#, kind: "Pod")
        #expect(ghost["metadata"]?["finalizers"] == (try json(#"["3","1"]"#)))
    }

    @Test func theResultIsCleanEvenWithoutAnOriginal() throws {
        let patch = #"""
            {"kind":"Pod","metadata":{"labels":{"$patch":"replace","a":"1"},"annotations":{"$data":"kept","gone":null}},
             "spec":{"$retainKeys":["containers"],"$setElementOrder/containers":[{"name":"a"}],
               "containers":[{"name":"a","$patch":"merge","env":[{"name":"X","$patch":"delete"}],"ports":[{"containerPort":1,"hostPort":null}]}]}}
            """#
        let created = try smp(patch, to: "null", kind: "Pod")
        #expect(created == (try json(#"""
            {"kind":"Pod","metadata":{"labels":{"a":"1"},"annotations":{"$data":"kept"}},
             "spec":{"containers":[{"name":"a","env":[],"ports":[{"containerPort":1}]}]}}
            """#)))
    }
}

// MARK: - Strategic merge: refusals

@Suite struct StrategicMergeRefusalTests {
    @Test func malformedPatchesAreRefusedWith400AndAReason() throws {
        let cases: [(patch: String, message: String)] = [
            (#"[]"#, "a strategic merge patch must be a JSON object, found array"),
            (#"{"metadata":{"labels":{"$patch":"explode"}}}"#, #"metadata.labels: unknown $patch directive "explode" (expected replace, delete or merge)"#),
            (#"{"$patch":7}"#, "patch: unknown $patch directive 7 (expected replace, delete or merge)"),
            (#"{"spec":{"containers":[{"image":"x"}]}}"#, #"spec.containers[0]: {"image":"x"} does not contain declared merge key: name"#),
            (#"{"spec":{"containers":[{"$patch":"delete","image":"x"}]}}"#, #"spec.containers[0]: a $patch: delete item does not contain the merge key "name""#),
            (#"{"spec":{"containers":["app"]}}"#, #"spec.containers[0]: a list merged by "name" holds objects, found string"#),
            (#"{"spec":{"containers":[{"name":"a","$patch":"twist"}]}}"#, #"spec.containers[0]: unknown $patch directive "twist" (expected replace, delete or merge)"#),
            (#"{"metadata":{"finalizers":[{"a":1}]}}"#, "metadata.finalizers[0]: a list merged as a set holds only scalars, found object"),
            (#"{"spec":{"$retainKeys":"containers"}}"#, "spec: $retainKeys must be a list of strings, found string"),
            (#"{"spec":{"$retainKeys":[1]}}"#, "spec: $retainKeys must be a list of strings, found integer in it"),
            (#"{"spec":{"$retainKeys":["volumes"],"containers":[]}}"#, #"spec: the patch sets "containers", which $retainKeys does not list"#),
            (#"{"spec":{"$setElementOrder/containers":{"name":"a"}}}"#, "spec: $setElementOrder/containers must be a list, found object"),
            (#"{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}"#, "metadata: $deleteFromPrimitiveList/finalizers must be a list, found string"),
            (#"{"spec":{"$setElementOrder/containers":[{"image":"x"}]}}"#,
             #"spec.containers: $setElementOrder entry 0 ({"image":"x"}) does not contain the merge key "name""#),
            (#"{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"name":"x"}]}}"#,
             #"spec.containers: the patch's item {"name":"x"} is missing from $setElementOrder or out of its order"#),
            (#"{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"name":"sidecar"},{"name":"app"}]}}"#,
             #"spec.containers: the patch's item {"name":"app"} is missing from $setElementOrder or out of its order"#),
        ]
        for (patch, message) in cases {
            let failure = try smpFailure(patch, to: podP, kind: "Pod")
            #expect(failure?.message == message, "patch \(patch)")
            #expect(failure?.reason == .malformed, "patch \(patch)")
            #expect(failure?.status.code == 400, "patch \(patch)")
        }
    }

    @Test func aMalformedPatchDeepInsideIsFoundToo() throws {
        let failure = try smpFailure(#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"value":"1"}]}]}}}}"#,
            to: deploymentWeb, kind: "Deployment")
        #expect(failure?.message == #"spec.template.spec.containers[0].env[0]: {"value":"1"} does not contain declared merge key: name"#)
    }
}

// MARK: - Content types

@Suite struct PatchKindTests {
    @Test func contentTypesNameTheFourKinds() throws {
        #expect(try PatchKind(contentType: "application/json-patch+json") == .jsonPatch)
        #expect(try PatchKind(contentType: "application/merge-patch+json") == .mergePatch)
        #expect(try PatchKind(contentType: "application/strategic-merge-patch+json") == .strategicMergePatch)
        #expect(try PatchKind(contentType: "application/apply-patch+yaml") == .applyPatch)
        #expect(try PatchKind(contentType: " Application/Merge-Patch+JSON ; charset=utf-8") == .mergePatch)
        #expect(PatchKind.allCases.count == 4)
    }

    @Test func otherContentTypesAreRefusedWith415() {
        for contentType in ["application/json", "application/apply-patch+json", "text/plain", "", "application/merge-patch"] {
            do {
                let kind = try PatchKind(contentType: contentType)
                Issue.record("\(contentType) was taken as \(kind)")
            } catch {
                #expect(error.reason == .unsupportedMediaType(contentType: contentType))
                #expect(error.status.code == 415)
                #expect(error.status.reason == .unsupportedMediaType)
                #expect(error.status.message.contains(JSON.quoted(contentType)))
                #expect(error.status.message.contains("application/strategic-merge-patch+json"))
            }
        }
    }

    @Test func patchErrorsMapToTheStatusTheShellSends() throws {
        let notApplicable = try jsonPatchFailure(#"[{"op":"remove","path":"/x"}]"#, to: "{}")
        #expect(notApplicable?.status == StatusError(code: 422, reason: .invalid, message: "operation 0 (remove): doc is missing path: /x"))
        let malformed = try jsonPatchFailure(#"{"op":"remove"}"#, to: "{}")
        #expect(malformed?.status == .badRequest("a JSON patch must be an array of operations, found object"))
    }

    @Test func theKindForMergeKeysComesFromTheArgumentTheObjectOrThePatch() throws {
        let pod = #"{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b"}]}}"#
        let patch = try json(#"{"spec":{"containers":[{"name":"a","image":"2"}]}}"#)
        let merged = #"{"spec":{"containers":[{"name":"a","image":"2"},{"name":"b"}]}}"#
        let replaced = #"{"spec":{"containers":[{"name":"a","image":"2"}]}}"#
        #expect(try PatchKind.apply(.strategicMergePatch, patch: patch, to: try json(pod), objectKind: "Pod") == (try json(merged)))
        // No Kind anywhere: nothing says these are containers, so the list is replaced.
        #expect(try PatchKind.apply(.strategicMergePatch, patch: patch, to: try json(pod)) == (try json(replaced)))
        let kindInPatch = try json(#"{"kind":"Pod","spec":{"containers":[{"name":"a","image":"2"}]}}"#)
        #expect(try PatchKind.apply(.strategicMergePatch, patch: kindInPatch, to: try json(pod))["spec"] == (try json(merged))["spec"])
    }
}
