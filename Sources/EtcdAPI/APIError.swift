//! Errors as the gateway sends them: `{"error":m,"message":m,"code":c}` with the HTTP status
//! grpc-gateway maps the gRPC code to, or a plain-text body for routing errors.

import MVCC
import Wire

public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    /// A routing error answered in plain text ("Not Found", "Method Not Allowed").
    public var plainStatus: Int?

    public init(code: StatusCode, message: String) {
        self.code = code
        self.message = message
    }

    public static func invalidArgument(_ message: String) -> APIError { APIError(code: .invalidArgument, message: message) }

    public init(_ error: StoreError) { self.init(code: error.code, message: error.message) }

    // The server-side errors etcd gives that are not the store's.
    public static let noLeader = APIError(code: .unavailable, message: "etcdserver: no leader")
    public static let timeout = APIError(code: .unavailable, message: "etcdserver: request timed out")
    public static let leaderChanged = APIError(code: .unavailable, message: "etcdserver: leader changed")
    public static let tooManyRequests = APIError(code: .resourceExhausted, message: "etcdserver: too many requests")
    public static let requestTooLarge = APIError(code: .invalidArgument, message: "etcdserver: request is too large")
    public static let notCapable = APIError(code: .unavailable, message: "etcdserver: not capable")
    public static let stopped = APIError(code: .unavailable, message: "etcdserver: server stopped")
    // Membership changes (etcd 3.4's api/v3rpc/rpctypes, as its gateway answers them).
    public static let memberNotFound = APIError(code: .notFound, message: "etcdserver: member not found")
    public static let memberIDExists = APIError(code: .failedPrecondition, message: "etcdserver: member ID already exist")
    public static let peerURLExists = APIError(code: .failedPrecondition, message: "etcdserver: Peer URLs already exists")
    public static let memberBadURLs = APIError(code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
    public static let memberNotLearner = APIError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
    public static let learnerNotReady = APIError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
    public static let tooManyLearners = APIError(code: .failedPrecondition, message: "etcdserver: too many learner members in cluster")
    /// etcd 3.4 sends this one as code Unknown (HTTP 500), not FailedPrecondition.
    public static let notEnoughStartedMembers = APIError(code: .unknown, message: "etcdserver: re-configuration failed due to not enough started members")
    public static let notLeader = APIError(code: .failedPrecondition, message: "etcdserver: not leader")
    public static let badLeaderTransferee = APIError(code: .failedPrecondition, message: "etcdserver: bad leader transferee")
    public static let leaderTransferTimeout = APIError(code: .unavailable, message: "etcdserver: request timed out, leader transfer took too long")
    public static let unhealthyCluster = APIError(code: .unavailable, message: "etcdserver: unhealthy cluster")
    public static let notFound = { () -> APIError in
        var error = APIError(code: .notFound, message: "Not Found")
        error.plainStatus = 404
        return error
    }()
    public static let pageNotFound = { () -> APIError in
        var error = APIError(code: .notFound, message: "404 page not found")
        error.plainStatus = 404
        return error
    }()
    public static let methodNotAllowed = { () -> APIError in
        var error = APIError(code: .unimplemented, message: "Method Not Allowed")
        error.plainStatus = 405
        return error
    }()

    /// grpc-gateway's HTTPStatusFromCode.
    public var httpStatus: Int {
        if let plainStatus { return plainStatus }
        switch code {
        case .ok: return 200
        case .cancelled: return 408
        case .unknown: return 500
        case .invalidArgument: return 400
        case .deadlineExceeded: return 504
        case .notFound: return 404
        case .alreadyExists: return 409
        case .permissionDenied: return 403
        case .unauthenticated: return 401
        case .resourceExhausted: return 429
        case .failedPrecondition: return 412
        case .aborted: return 409
        case .outOfRange: return 400
        case .unimplemented: return 501
        case .internalError: return 500
        case .unavailable: return 503
        case .dataLoss: return 500
        }
    }

    public var contentType: String { plainStatus == nil ? "application/json" : "text/plain; charset=utf-8" }

    public var body: [UInt8] {
        if plainStatus != nil { return Array((message + "\n").utf8) }
        var output: [UInt8] = Array("{\"error\":".utf8)
        JSONOut.string(message, &output)
        output += Array(",\"message\":".utf8)
        JSONOut.string(message, &output)
        output += Array(",\"code\":\(code.rawValue)}".utf8)
        return output
    }

    /// The error as etcd 3.4's gateway writes it on a stream (watch, keepalive), both as the
    /// body of a refused stream and as a stream's last message: the gRPC and HTTP codes spelled
    /// out, unlike a unary call's error body.
    public var streamBody: [UInt8] {
        var output: [UInt8] = Array("{\"error\":{\"grpc_code\":\(code.rawValue),\"http_code\":\(httpStatus),\"message\":".utf8)
        JSONOut.string(message, &output)
        output += Array(",\"http_status\":".utf8)
        JSONOut.string(HTTPStatus.text(httpStatus) ?? "", &output)
        output += Array("}}".utf8)
        return output
    }

    public var description: String { "\(message) (code \(code.rawValue))" }
}
