//! The real connection behind `EtcdClient`: Net's HTTP/1.1 client, one keep-alive connection
//! per endpoint.

import Base
import Net

final class NetConnection: EtcdHTTPConnection {
    private let client: HTTPClient

    init(endpoint: String, connectTimeout: Nanoseconds) throws(EtcdTransportFailure) {
        do {
            client = HTTPClient(endpoint: try Endpoint(parsing: endpoint), connectTimeout: connectTimeout)
        } catch {
            throw .notSent(error.message)
        }
    }

    func post(path: String, body: [UInt8], timeout: Nanoseconds) throws(EtcdTransportFailure) -> (status: Int, body: [UInt8]) {
        do {
            let response = try client.post(path, body: body, timeout: timeout)
            return (response.status, response.body)
        } catch {
            switch error {
            case .notSent(let why): throw .notSent(why)
            case .noAnswer(let why): throw .noAnswer(why)
            }
        }
    }

    /// Wakes a `stream` call blocked on another thread.
    func interrupt() { client.interrupt() }

    /// Streams a chunked response (watch, keepalive), one chunk per call of `onChunk`.
    func stream(path: String, body: [UInt8], headers: [(String, String)] = [], idleTimeout: Nanoseconds,
        onChunk: ([UInt8]) -> Bool) throws(EtcdTransportFailure) -> Int
    {
        do {
            return try client.stream(path, body: body, headers: headers, idleTimeout: idleTimeout, onChunk: onChunk)
        } catch {
            switch error {
            case .notSent(let why): throw .notSent(why)
            case .noAnswer(let why): throw .noAnswer(why)
            }
        }
    }
}

/// A connection that could not even be set up (a malformed endpoint): every call fails unsent.
final class UnusableConnection: EtcdHTTPConnection {
    let reason: EtcdTransportFailure
    init(_ reason: EtcdTransportFailure) { self.reason = reason }
    func post(path: String, body: [UInt8], timeout: Nanoseconds) throws(EtcdTransportFailure) -> (status: Int, body: [UInt8]) {
        throw reason
    }
}

extension EtcdClient {
    /// A client over real HTTP connections.
    public convenience init(endpoints: [String], timeout: Nanoseconds = 5 * Time.second,
        connectTimeout: Nanoseconds = 1 * Time.second)
    {
        self.init(endpoints: endpoints, timeout: timeout) { endpoint in
            do throws(EtcdTransportFailure) {
                return try NetConnection(endpoint: endpoint, connectTimeout: connectTimeout)
            } catch {
                return UnusableConnection(error)
            }
        }
    }

    /// GET /health on one endpoint: true only when it answers {"health":"true"}.
    public static func isHealthy(_ endpoint: String, timeout: Nanoseconds = 1 * Time.second) -> Bool {
        guard let parsed = try? Endpoint(parsing: endpoint) else { return false }
        let client = HTTPClient(endpoint: parsed, connectTimeout: timeout)
        guard let response = try? client.get("/health", timeout: timeout), response.status == 200 else { return false }
        return response.text.replacingOccurrences(of: " ", with: "").contains("\"health\":\"true\"")
    }
}
