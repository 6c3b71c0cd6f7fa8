//! Answers: JSON documents, Status errors in the shape kubectl prints ("Error from server
//! (NotFound): pods "x" not found"), and the failures handlers throw.

import KubeAPI
import Net
import Wire

/// Why a request failed, in the apiserver's terms; `status` turns it into the Status document.
enum APIFailure: Error {
    case unknownPath
    case notFound(ResourceDescriptor, name: String)
    case namespaceNotFound(String)
    case alreadyExists(ResourceDescriptor, name: String)
    case conflict(ResourceDescriptor, name: String)
    /// A 409 with its own message (a failed delete precondition, a pod already bound).
    case conflictMessage(ResourceDescriptor, name: String, String)
    case invalid(ResourceDescriptor, name: String, causes: [FieldCause])
    case badRequest(String)
    case unsupportedMediaType(String)
    /// A body in a format we take whose content we cannot read (415 with its own message).
    case unsupportedContent(String)
    /// A patch that could not be read or applied (400, 415 or 422 as `PatchError` says).
    case patch(PatchError)
    case methodNotAllowed(String)
    case expired(String)
    case forbidden(ResourceDescriptor, name: String, String)
    case tooManyRequests(String)
    case storeUnavailable(String)
    case internalError(String)

    init(_ failure: StoreFailure) {
        switch failure {
        case .unavailable(let why): self = .storeUnavailable(why)
        case .corrupt: self = .internalError(failure.description)
        case .compacted(let why): self = .expired(why)
        }
    }
}

/// A handler's way to answer; one answer per request.
struct Reply {
    let responder: HTTPResponder

    init(_ responder: HTTPResponder) { self.responder = responder }

    func json(_ status: Int, _ document: JSONValue) {
        var body: [UInt8] = []
        JSON.append(document, to: &body)
        responder.respond(status: status, body: body, contentType: "application/json")
    }

    func text(_ status: Int, _ text: String) {
        responder.respond(status: status, body: Array(text.utf8), contentType: "text/plain; charset=utf-8")
    }

    func failure(_ failure: APIFailure) {
        let (code, document) = KubeCore.status(failure)
        json(code, document)
    }
}
