//! How a request to the apiservers fails: either a server answered with a failure Status (its
//! HTTP code, reason and message, as kubectl prints them), or no server answered at all.

import KubeAPI
import Wire

public enum APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An apiserver answered with a failure status. `reason` is the Status reason (nil when the
    /// body carried none the client knows, or when the body was not a Status).
    case status(code: Int, reason: StatusReason?, message: String)
    /// No apiserver answered. For a read, every endpoint was tried. For a write, the request may
    /// have been applied (sent, no answer): the caller must re-read before assuming either way.
    case unreachable(String)

    /// The HTTP status code; nil when no server answered.
    public var code: Int? {
        if case .status(let code, _, _) = self { return code }
        return nil
    }

    public var reason: StatusReason? {
        if case .status(_, let reason, _) = self { return reason }
        return nil
    }

    public var message: String {
        switch self {
        case .status(_, _, let message): return message
        case .unreachable(let why): return why
        }
    }

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { reason == .alreadyExists }
    /// 409 Conflict: a stale resourceVersion, a failed precondition, a pod already bound.
    public var isConflict: Bool { reason == .conflict }
    public var isInvalid: Bool { code == 422 }
    /// 410 Gone or Expired: the resourceVersion asked for is compacted away; relist.
    public var isExpired: Bool { code == 410 }
    public var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .status(let code, let reason, let message): return "\(code) \(reason?.rawValue ?? "?"): \(message)"
        case .unreachable(let why): return "apiserver unreachable: \(why)"
        }
    }

    /// The error a failure response stands for: its Status body when there is one.
    static func from(code: Int, body: [UInt8]) -> APIError {
        let parsed = body.isEmpty ? nil : body.withUnsafeBufferPointer { try? JSON.parse(bytes: $0) }
        return from(code: code, status: parsed)
    }

    /// The error of a Status object (a failed response's body, or a watch's ERROR event).
    static func from(code: Int, status: JSONValue?) -> APIError {
        let reason = status?.stringMember("reason").flatMap(StatusReason.init(rawValue:))
        let message = status?.stringMember("message") ?? "the server answered \(code)"
        let statusCode = status?.intMember("code").map(Int.init) ?? code
        return .status(code: statusCode, reason: reason, message: message)
    }
}
