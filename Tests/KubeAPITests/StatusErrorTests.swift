//! StatusErrorTests: every Status the apiserver answers with, byte for byte where
//! kubectl-compat §1 gives the shape, and the wording kubectl prints.

import KubeAPI
import Testing
import Wire

private func body(_ error: StatusError) -> String { JSON.serialize(error.json) }

@Suite struct StatusErrorTests {
    @Test func notFoundHasTheExactShapeOfTheSpec() {
        #expect(body(.notFound(resource: "pods", name: "nginx"))
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nginx\" not found","reason":"NotFound","details":{"name":"nginx","kind":"pods"},"code":404}"#)
    }

    @Test func groupedResourcesAreQualifiedInTheMessageAndNamedInDetails() {
        let error = StatusError.notFound(resource: "deployments", group: "apps", name: "web")
        #expect(error.code == 404)
        #expect(error.message == #"deployments.apps "web" not found"#)
        #expect(error.details == StatusDetails(name: "web", group: "apps", kind: "deployments"))
        #expect(body(error).contains(#""details":{"name":"web","group":"apps","kind":"deployments"}"#))
        #expect(error.description == #"404 NotFound: deployments.apps "web" not found"#)
    }

    @Test func namespaceNotFoundAndUnknownPath() {
        let namespace = StatusError.namespaceNotFound("nope")
        #expect(namespace.message == #"namespaces "nope" not found"#)
        #expect(namespace.details?.kind == "namespaces")
        #expect(body(.unknownPath)
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#)
    }

    @Test func alreadyExistsAndConflictAre409WithTheirOwnReasons() {
        let exists = StatusError.alreadyExists(resource: "pods", name: "lonely")
        #expect(exists.code == 409)
        #expect(exists.reason == .alreadyExists)
        #expect(exists.message == #"pods "lonely" already exists"#)
        let conflict = StatusError.conflict(resource: "pods", name: "lonely")
        #expect(conflict.code == 409)
        #expect(conflict.reason == .conflict)
        #expect(conflict.message
            == #"Operation cannot be fulfilled on pods "lonely": the object has been modified; please apply your changes to the latest version and try again"#)
        #expect(StatusError.conflict(resource: "deployments", group: "apps", name: "web", reason: "precondition failed").message
            == #"Operation cannot be fulfilled on deployments.apps "web": precondition failed"#)
        #expect(body(conflict).contains(#""reason":"Conflict","details":{"name":"lonely","kind":"pods"},"code":409"#))
    }

    @Test func invalidNamesTheKindAndCarriesTheCausesAsTheSpecShows() {
        let error = StatusError.invalid(
            kind: "Pod", name: "bad",
            causes: [StatusCause(field: "spec.containers", reason: "FieldValueRequired", message: "Required value")])
        #expect(error.code == 422)
        #expect(error.message == #"Pod "bad" is invalid: spec.containers: Required value"#)
        #expect(body(error)
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Pod \"bad\" is invalid: spec.containers: Required value","reason":"Invalid","details":{"name":"bad","group":"","kind":"Pod","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"}]},"code":422}"#)
    }

    @Test func severalCausesAreListedInBracketsOnceEach() {
        let replicas = StatusCause(field: "spec.replicas", reason: "FieldValueInvalid", message: "Invalid value: -1: must be greater than or equal to 0")
        let selector = StatusCause(field: "spec.selector", reason: "FieldValueRequired", message: "Required value")
        let error = StatusError.invalid(kind: "Deployment", group: "apps", name: "web", causes: [replicas, selector, replicas])
        #expect(error.message
            == #"Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.selector: Required value]"#)
        #expect(error.details?.causes.count == 3)
        #expect(error.details?.group == "apps")
        #expect(StatusError.invalid(kind: "Pod", name: "bad", causes: []).message == #"Pod "bad" is invalid"#)
        #expect(StatusError.invalid(kind: "Pod", name: "bad", causes: [StatusCause(message: "metadata is broken")]).message
            == #"Pod "bad" is invalid: metadata is broken"#)
    }

    @Test func requestProblemsHaveNoDetails() {
        let bad = StatusError.badRequest("unable to parse requirement: found '', expected: identifier")
        #expect(bad.code == 400)
        #expect(bad.reason == .badRequest)
        #expect(body(bad)
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"unable to parse requirement: found '', expected: identifier","reason":"BadRequest","code":400}"#)
        let media = StatusError.unsupportedMediaType(contentType: "text/plain", accepted: ["application/json"])
        #expect(media.code == 415)
        #expect(media.reason == .unsupportedMediaType)
        #expect(media.message == #"the body of the request was in an unknown format ("text/plain") - accepted media types include: application/json"#)
        #expect(media.details == nil)
    }

    @Test func methodNotAllowedWithAndWithoutAResource() {
        let generic = StatusError.methodNotAllowed()
        #expect(generic.code == 405)
        #expect(generic.reason == .methodNotAllowed)
        #expect(generic.message == "the server does not allow this method on the requested resource")
        let specific = StatusError.methodNotAllowed(verb: "create", resource: "deployments", group: "apps")
        #expect(specific.message == #"create is not supported on resources of kind "deployments.apps""#)
        #expect(specific.details == StatusDetails(group: "apps", kind: "deployments"))
    }

    @Test func expiredAndGoneAre410() {
        let expired = StatusError.tooOldResourceVersion(requested: 5, oldestAvailable: 120)
        #expect(expired.code == 410)
        #expect(expired.reason == .expired)
        #expect(expired.message == "too old resource version: 5 (120)")
        #expect(body(expired).contains(#""reason":"Expired","code":410}"#))
        #expect(StatusError.expired("x") == StatusError(code: 410, reason: .expired, message: "x"))
        #expect(StatusError.gone("gone for good").reason == .gone)
        #expect(StatusError.gone("gone for good").code == 410)
    }

    @Test func tooManyRequestsCarriesRetryAfterAndCauses() {
        let plain = StatusError.tooManyRequests("slow down")
        #expect(plain.code == 429)
        #expect(plain.details == nil)
        let eviction = StatusError.tooManyRequests(
            "Cannot evict pod as it would violate the pod's disruption budget.", retryAfterSeconds: 5,
            causes: [StatusCause(reason: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods and has 2 currently")])
        #expect(body(eviction).contains(
            #""details":{"causes":[{"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods and has 2 currently"}],"retryAfterSeconds":5},"code":429"#))
    }

    @Test func serverFailuresAre500And503() {
        let internalError = StatusError.internalError("store unreachable")
        #expect(internalError.code == 500)
        #expect(internalError.reason == .internalError)
        #expect(internalError.message == "Internal error occurred: store unreachable")
        #expect(body(internalError).contains(#""details":{"causes":[{"message":"store unreachable"}]}"#))
        let unavailable = StatusError.serviceUnavailable("no leader")
        #expect(unavailable.code == 503)
        #expect(unavailable.reason == .serviceUnavailable)
        #expect(unavailable.details == nil)
    }

    @Test func reasonsAreKubernetesSpelling() {
        let spelled: [(StatusReason, String)] = [
            (.notFound, "NotFound"), (.alreadyExists, "AlreadyExists"), (.conflict, "Conflict"), (.invalid, "Invalid"),
            (.badRequest, "BadRequest"), (.unsupportedMediaType, "UnsupportedMediaType"), (.methodNotAllowed, "MethodNotAllowed"),
            (.expired, "Expired"), (.gone, "Gone"), (.tooManyRequests, "TooManyRequests"), (.internalError, "InternalError"),
            (.serviceUnavailable, "ServiceUnavailable"),
        ]
        for (reason, text) in spelled { #expect(reason.rawValue == text) }
    }

    @Test func successStatusForEvictionAndDeletes() {
        #expect(JSON.serialize(statusSuccess(code: 201))
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}"#)
        #expect(JSON.serialize(statusSuccess(details: StatusDetails(name: "web", group: "apps", kind: "deployments", uid: "u-1")))
            == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"web","group":"apps","kind":"deployments","uid":"u-1"}}"#)
    }

    @Test func aStatusBodyParsesBackAsJSON() throws {
        let error = StatusError.notFound(resource: "pods", name: "we\"ird\\name")
        let parsed = try JSON.parse(body(error))
        #expect(parsed["details"]?["name"] == .string("we\"ird\\name"))
        #expect(parsed["message"] == .string(#"pods "we\"ird\\name" not found"#))
    }
}
