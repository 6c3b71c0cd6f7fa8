//! HTTP status reason phrases, one table for every module that writes them: Net's status lines
//! and the etcd gateway's stream errors (`"http_status":"Service Unavailable"`). Spelled as Go's
//! net/http spells them, since the real servers we stand in for (etcd, kube-apiserver) are Go.

public enum HTTPStatus {
    /// Go's `http.StatusText`; nil for a status Go has no text for.
    public static func text(_ status: Int) -> String? {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Request Entity Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return nil
        }
    }

    /// The reason phrase of a status line: Go writes "status code N" where it has no text.
    public static func reason(_ status: Int) -> String { text(status) ?? "status code \(status)" }
}
