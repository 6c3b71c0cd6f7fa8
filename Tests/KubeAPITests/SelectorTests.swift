//! SelectorTests: label selectors (every operator, the structured form, canonical rendering,
//! label syntax) and field selectors (the queries kubectl sends, escapes, missing fields), with
//! the malformed selectors that must be refused and the message that says why.

import KubeAPI
import Testing
import Wire

private func labels(_ text: String) throws -> LabelSelector { try LabelSelector(parsing: text) }

/// The error message for a query string that must be refused, or nil when it parsed.
private func labelError(_ text: String) -> String? {
    do {
        _ = try LabelSelector(parsing: text)
        return nil
    } catch {
        return error.message
    }
}

private func structuredError(_ json: String) throws -> String? {
    let selector = try JSON.parse(json)
    do {
        _ = try LabelSelector(structured: selector)
        return nil
    } catch {
        return error.message
    }
}

private func fieldError(_ text: String) -> String? {
    do {
        _ = try FieldSelector(parsing: text)
        return nil
    } catch {
        return error.message
    }
}

private func pod(name: String = "nginx", labels: [String: String]? = nil, node: String? = nil, phase: String? = nil) -> JSONValue {
    var metadata: JSONObject = ["name": .string(name), "namespace": .string("default")]
    if let labels {
        var members = JSONObject()
        for key in labels.keys.sorted() { members[key] = .string(labels[key]!) }
        metadata["labels"] = .object(members)
    }
    var spec = JSONObject()
    if let node { spec["nodeName"] = .string(node) }
    var status = JSONObject()
    if let phase { status["phase"] = .string(phase) }
    return .object(["kind": .string("Pod"), "metadata": .object(metadata), "spec": .object(spec), "status": .object(status)])
}

@Suite struct LabelSelectorOperatorTests {
    @Test func equalsMatchesOnlyThatValue() throws {
        let selector = try labels("app=web")
        #expect(selector.requirements == [try LabelSelector.Requirement(key: "app", operator: .equals, values: ["web"])])
        #expect(selector.matches(labels: ["app": "web", "tier": "front"]))
        #expect(!selector.matches(labels: ["app": "db"]))
        #expect(!selector.matches(labels: [:]))
        #expect(selector.description == "app=web")
    }

    @Test func doubleEqualsIsEqualsAndKeepsItsSpelling() throws {
        let selector = try labels("app==web")
        #expect(selector.requirements.first?.operator == .doubleEquals)
        #expect(selector.matches(labels: ["app": "web"]))
        #expect(!selector.matches(labels: ["app": "webx"]))
        #expect(selector.description == "app==web")
    }

    @Test func notEqualsAlsoMatchesAMissingLabel() throws {
        let selector = try labels("app!=web")
        #expect(selector.matches(labels: [:]))
        #expect(selector.matches(labels: ["app": "db"]))
        #expect(!selector.matches(labels: ["app": "web"]))
        #expect(selector.description == "app!=web")
    }

    @Test func inMatchesAnyListedValueButNotAMissingLabel() throws {
        let selector = try labels("tier in ( b , a )")
        #expect(selector.requirements.first?.values == ["a", "b"])
        #expect(selector.matches(labels: ["tier": "a"]))
        #expect(selector.matches(labels: ["tier": "b"]))
        #expect(!selector.matches(labels: ["tier": "c"]))
        #expect(!selector.matches(labels: [:]))
        #expect(selector.description == "tier in (a,b)")
    }

    @Test func notInMatchesOtherValuesAndAMissingLabel() throws {
        let selector = try labels("tier notin (a)")
        #expect(selector.matches(labels: [:]))
        #expect(selector.matches(labels: ["tier": "c"]))
        #expect(!selector.matches(labels: ["tier": "a"]))
        #expect(selector.description == "tier notin (a)")
    }

    @Test func aBareKeyRequiresTheLabelAndABangForbidsIt() throws {
        let exists = try labels("canary")
        #expect(exists.requirements.first?.operator == .exists)
        #expect(exists.matches(labels: ["canary": ""]))
        #expect(!exists.matches(labels: ["app": "web"]))
        let absent = try labels("!canary")
        #expect(absent.requirements.first?.operator == .doesNotExist)
        #expect(absent.matches(labels: ["app": "web"]))
        #expect(!absent.matches(labels: ["canary": "yes"]))
        #expect(absent.description == "!canary")
        #expect(exists.description == "canary")
    }

    @Test func termsAreAndedToleratingWhitespaceAndRenderSortedByKey() throws {
        let selector = try labels("  tier in (b,a) ,\tapp = web , !canary ,env notin(prod)")
        #expect(selector.description == "app=web,!canary,env notin (prod),tier in (a,b)")
        #expect(selector.matches(labels: ["app": "web", "tier": "a", "env": "dev"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "a", "canary": "1"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "a", "env": "prod"]))
        #expect(!selector.matches(labels: ["app": "db", "tier": "a"]))
        // The canonical form parses back to the same selector.
        #expect(try labels(selector.description) == selector)
    }

    @Test func theEmptySelectorMatchesEverything() throws {
        let selector = try labels("")
        #expect(selector == .everything)
        #expect(selector.isEverything)
        #expect(selector.matches(labels: [:]))
        #expect(try labels("   ").isEverything)
        #expect(!(try labels("a")).isEverything)
    }

    @Test func emptyValuesAreValuesAsInKubernetes() throws {
        let selector = try labels("a=")
        #expect(selector.matches(labels: ["a": ""]))
        #expect(!selector.matches(labels: ["a": "x"]))
        #expect(!selector.matches(labels: [:]))
        #expect(try labels("a in (x,,y)").requirements.first?.values == ["", "x", "y"])
        #expect(try labels("a in ()").requirements.first?.values == [""])
        #expect(try labels("a=,b").requirements.map(\.key) == ["a", "b"])
    }

    @Test func inAndNotinAreKeywordsOnlyWhereAnOperatorStands() throws {
        let selector = try labels("in in (notin,in)")
        #expect(selector.requirements.first?.key == "in")
        #expect(selector.matches(labels: ["in": "notin"]))
    }

    @Test func prefixedKeysAreAccepted() throws {
        let selector = try labels("kubernetes.io/hostname=node1,node-role.kubernetes.io/control-plane")
        #expect(selector.matches(labels: ["kubernetes.io/hostname": "node1", "node-role.kubernetes.io/control-plane": ""]))
        #expect(!selector.matches(labels: ["kubernetes.io/hostname": "node1"]))
    }

    @Test func matchingAnObjectReadsMetadataLabels() throws {
        let selector = try labels("app=web")
        #expect(selector.matches(object: pod(labels: ["app": "web"])))
        #expect(!selector.matches(object: pod(labels: ["app": "db"])))
        #expect(!selector.matches(object: pod()))
        #expect(try labels("!app").matches(object: .object([:])))
        let numericLabel = try JSON.parse(#"{"metadata":{"labels":{"app":1,"tier":"a"}}}"#)
        #expect(LabelSelector.labels(of: numericLabel) == ["tier": "a"])
    }
}

@Suite struct LabelSelectorRefusalTests {
    @Test func syntaxErrorsNameTheOffendingToken() {
        #expect(labelError("app=web extra") == "found 'extra', expected: ',' or 'end of string'")
        #expect(labelError(",app") == "found ',', expected: !, identifier, or 'end of string'")
        #expect(labelError("app,") == "found '', expected: identifier after ','")
        #expect(labelError("app,,b") == "found ',', expected: identifier after ','")
        #expect(labelError("app in a") == "unable to parse requirement: found 'a', expected: '('")
        #expect(labelError("app in (a b)") == "unable to parse requirement: found 'b', expected: ',', ')' or identifier")
        #expect(labelError("app in (a") == "unable to parse requirement: found '', expected: ',', ')' or identifier")
        #expect(labelError("app<5") == "unable to parse requirement: found '<', expected: '=', '!=', '==', 'in', 'notin'")
        #expect(labelError("app = = web") == "unable to parse requirement: found '=', expected: identifier")
        #expect(labelError("!=web") == "found '!=', expected: !, identifier, or 'end of string'")
        #expect(labelError("!") == "unable to parse requirement: found '', expected: identifier")
        #expect(labelError("!app=web")?.hasPrefix("unable to parse requirement: found '='") == true)
    }

    @Test func badKeysAreRefusedWithTheKeyNamed() {
        #expect(labelError("-app=web")?.hasPrefix("unable to parse requirement: invalid label key \"-app\": name part must consist") == true)
        #expect(labelError("app_=web")?.contains("invalid label key \"app_\"") == true)
        #expect(labelError(String(repeating: "k", count: 64))?.contains("name part must be no more than 63 characters") == true)
        #expect(labelError(String(repeating: "k", count: 63)) == nil)
        #expect(labelError("/app=x")?.contains("prefix part must be non-empty") == true)
        #expect(labelError("Example.com/app=x")?.contains("invalid label key \"Example.com/app\": prefix part must be a lowercase RFC 1123 subdomain") == true)
        #expect(labelError("example..com/app=x")?.contains("prefix part") == true)
        #expect(labelError("a/b/c=x")?.contains("invalid label key \"a/b/c\"") == true)
        #expect(labelError("example.com/=x")?.contains("name part must be non-empty") == true)
    }

    @Test func badValuesAreRefusedWithTheValueAndKeyNamed() {
        #expect(labelError("app=-web")?.hasPrefix("unable to parse requirement: invalid label value: \"-web\": at key: \"app\"") == true)
        #expect(labelError("app in (ok,bad!)") != nil)
        #expect(labelError("app in (ok,x/y)")?.contains("invalid label value: \"x/y\"") == true)
        #expect(labelError("app=" + String(repeating: "v", count: 64))?.contains("must be no more than 63 characters") == true)
        #expect(labelError("app=" + String(repeating: "v", count: 63)) == nil)
    }

    @Test func requirementsCheckTheirValueCount() {
        #expect(throws: SelectorError.self) { try LabelSelector.Requirement(key: "a", operator: .in, values: []) }
        #expect(throws: SelectorError.self) { try LabelSelector.Requirement(key: "a", operator: .equals, values: ["x", "y"]) }
        #expect(throws: SelectorError.self) { try LabelSelector.Requirement(key: "a", operator: .exists, values: ["x"]) }
        #expect((try? LabelSelector.Requirement(key: "a", operator: .equals, values: ["x", "x"]))?.values == ["x"])
    }
}

@Suite struct StructuredLabelSelectorTests {
    @Test func matchLabelsAndMatchExpressionsCombine() throws {
        let selector = try LabelSelector(structured: try JSON.parse(#"""
            {"matchLabels":{"app":"web"},"matchExpressions":[
              {"key":"tier","operator":"In","values":["b","a"]},
              {"key":"env","operator":"NotIn","values":["prod"]},
              {"key":"track","operator":"Exists"},
              {"key":"canary","operator":"DoesNotExist","values":[]}]}
            """#))
        #expect(selector.description == "app=web,!canary,env notin (prod),tier in (a,b),track")
        #expect(selector.matches(labels: ["app": "web", "tier": "a", "track": "stable"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "a"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "a", "track": "s", "canary": "1"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "c", "track": "s"]))
        #expect(!selector.matches(labels: ["app": "web", "tier": "a", "track": "s", "env": "prod"]))
    }

    @Test func aMissingSelectorMatchesNothingAndAnEmptyOneEverything() throws {
        let nothing = try LabelSelector(structured: .null)
        #expect(nothing == .nothing)
        #expect(!nothing.matches(labels: [:]))
        #expect(!nothing.matches(labels: ["app": "web"]))
        #expect(!nothing.isEverything)
        let everything = try LabelSelector(structured: .object([:]))
        #expect(everything.isEverything)
        #expect(everything.matches(labels: ["app": "web"]))
        #expect(try LabelSelector(structured: try JSON.parse(#"{"matchLabels":null,"matchExpressions":[]}"#)).isEverything)
    }

    @Test func malformedStructuredSelectorsAreRefused() throws {
        #expect(try structuredError(#"{"matchExpressions":[{"key":"a","operator":"Foo"}]}"#)
            == #""Foo" is not a valid label selector operator (matchExpressions[0])"#)
        #expect(try structuredError(#"{"matchExpressions":[{"key":"a","operator":"In"}]}"#)?.contains("values set can't be empty") == true)
        #expect(try structuredError(#"{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}"#)?.contains("values set must be empty") == true)
        #expect(try structuredError(#"{"matchExpressions":[{"operator":"Exists"}]}"#) == "matchExpressions[0].key must be a string")
        #expect(try structuredError(#"{"matchExpressions":[{"key":"a","operator":"In","values":[1]}]}"#) == "matchExpressions[0].values must hold strings, found integer")
        #expect(try structuredError(#"{"matchLabels":{"app":1}}"#) == #"matchLabels["app"] must be a string, found integer"#)
        #expect(try structuredError(#"{"matchLabels":{"-app":"web"}}"#)?.contains(#"invalid label key "-app""#) == true)
        #expect(try structuredError(#"{"matchLabels":[]}"#) == "matchLabels must be an object, found array")
        #expect(try structuredError(#"{"matchExpressions":{}}"#) == "matchExpressions must be an array, found object")
        #expect(try structuredError(#""app=web""#) == "a label selector must be an object, found string")
    }
}

@Suite struct FieldSelectorTests {
    @Test func equalityOnNameAsDeleteAndRolloutStatusSendIt() throws {
        let selector = try FieldSelector(parsing: "metadata.name=web")
        #expect(selector.matches(object: pod(name: "web")))
        #expect(!selector.matches(object: pod(name: "web2")))
        #expect(try FieldSelector(parsing: "metadata.name==web") == selector)
        #expect(try FieldSelector(parsing: "metadata.name==web").description == "metadata.name=web")
        #expect(try FieldSelector(parsing: "metadata.namespace=default").matches(object: pod()))
    }

    @Test func describeNodeSelectsItsLivePodsWithNotEquals() throws {
        let selector = try FieldSelector(parsing: "spec.nodeName=node1,status.phase!=Succeeded,status.phase!=Failed")
        #expect(selector.description == "spec.nodeName=node1,status.phase!=Failed,status.phase!=Succeeded")
        #expect(selector.matches(object: pod(node: "node1", phase: "Running")))
        #expect(selector.matches(object: pod(node: "node1")))
        #expect(!selector.matches(object: pod(node: "node1", phase: "Succeeded")))
        #expect(!selector.matches(object: pod(node: "node1", phase: "Failed")))
        #expect(!selector.matches(object: pod(node: "node2", phase: "Running")))
        #expect(!selector.matches(object: pod(phase: "Running")))
    }

    @Test func describePodSelectsItsEventsByInvolvedObject() throws {
        let event = try JSON.parse(#"""
            {"kind":"Event","type":"Normal","reason":"Scheduled",
             "involvedObject":{"kind":"Pod","name":"nginx","namespace":"default","uid":"u-1"}}
            """#)
        let selector = try FieldSelector(parsing: "involvedObject.name=nginx,involvedObject.namespace=default,involvedObject.uid=u-1")
        #expect(selector.matches(object: event))
        #expect(!(try FieldSelector(parsing: "involvedObject.uid=u-2")).matches(object: event))
        #expect(try FieldSelector(parsing: "involvedObject.kind=Pod,type=Normal,reason=Scheduled").matches(object: event))
        // describe node asks for events with an empty namespace: a missing field reads as "".
        #expect(try FieldSelector(parsing: "involvedObject.kind=Node,involvedObject.namespace=").matches(
            object: try JSON.parse(#"{"involvedObject":{"kind":"Node","name":"node1"}}"#)))
        #expect(!(try FieldSelector(parsing: "involvedObject.namespace=")).matches(object: event))
    }

    @Test func aMissingFieldComparesAsEmpty() throws {
        #expect(try FieldSelector(parsing: "spec.nodeName=").matches(object: pod()))
        #expect(!(try FieldSelector(parsing: "spec.nodeName=")).matches(object: pod(node: "node1")))
        #expect(try FieldSelector(parsing: "spec.nodeName!=").matches(object: pod(node: "node1")))
        #expect(try FieldSelector(parsing: "no.such.field!=x").matches(object: pod()))
        #expect(FieldSelector.fieldText("spec", in: pod(node: "n")) == "")
    }

    @Test func booleansAndNumbersCompareByTheirText() throws {
        let node = try JSON.parse(#"{"metadata":{"name":"node2","generation":3},"spec":{"unschedulable":true}}"#)
        #expect(try FieldSelector(parsing: "spec.unschedulable=true").matches(object: node))
        #expect(!(try FieldSelector(parsing: "spec.unschedulable=false")).matches(object: node))
        #expect(try FieldSelector(parsing: "metadata.generation=3").matches(object: node))
        #expect(!(try FieldSelector(parsing: "metadata.generation=03")).matches(object: node))
    }

    @Test func backslashEscapesCommaEqualsAndBackslashInValues() throws {
        let selector = try FieldSelector(parsing: #"metadata.name=a\,b\=c\\d"#)
        #expect(selector.requirements == [FieldSelector.Requirement(field: "metadata.name", negated: false, value: #"a,b=c\d"#)])
        #expect(selector.description == #"metadata.name=a\,b\=c\\d"#)
        #expect(selector.matches(object: pod(name: #"a,b=c\d"#)))
        #expect(FieldSelector.escape("x,y") == #"x\,y"#)
        #expect(try FieldSelector(parsing: selector.description) == selector)
    }

    @Test func emptyTermsAreSkippedAndTheEmptySelectorMatchesEverything() throws {
        #expect(try FieldSelector(parsing: "").isEverything)
        #expect(try FieldSelector(parsing: "").matches(object: .null))
        #expect(try FieldSelector(parsing: "metadata.name=a,").requirements.count == 1)
        #expect(!(try FieldSelector(parsing: "metadata.name=a")).isEverything)
    }

    @Test func preparedFieldSetsMatchToo() throws {
        let selector = try FieldSelector(parsing: "metadata.name=a,status.phase!=Failed")
        #expect(selector.matches(fields: ["metadata.name": "a"]))
        #expect(!selector.matches(fields: ["metadata.name": "a", "status.phase": "Failed"]))
        #expect(!selector.matches(fields: [:]))
    }

    @Test func malformedFieldSelectorsAreRefusedWithTheTermNamed() {
        #expect(fieldError("metadata.name") == "invalid selector: 'metadata.name'; can't understand 'metadata.name'")
        #expect(fieldError("a=b,metadata.name") == "invalid selector: 'a=b,metadata.name'; can't understand 'metadata.name'")
        #expect(fieldError("a=b=c") == "invalid field selector: unescaped character '=' in the value of 'a=b=c'")
        #expect(fieldError(#"a=x\y"#) == #"invalid field selector: invalid escape sequence '\y' in 'a=x\y'"#)
        #expect(fieldError(#"a=x\"#) == #"invalid field selector: 'a=x\' ends in an unfinished escape '\'"#)
    }
}
