//! What members say to each other inside the peer transport's frames (the transport's handshake
//! already checked the protocol version, the cluster token and both member ids): Raft messages,
//! and client requests a follower forwards to the leader with the leader's answers.

import Base
import Raft

enum PeerFrame: Equatable {
    case raft(Raft.Message)
    /// A client request this member cannot serve (it is not the leader), for the leader to run.
    case forwardRequest(id: UInt64, path: String, body: [UInt8])
    /// The leader's HTTP status and body for a forwarded request.
    case forwardResponse(id: UInt64, status: Int, body: [UInt8])
    /// A member's name and client URLs, repeated now and then, so every member can list them
    /// (etcd publishes them through Raft; they are advisory, so gossip is enough here).
    case attributes(name: String, clientURLs: [String])

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .raft(let message):
            writer.uint8(1)
            message.encode(into: &writer)
        case .forwardRequest(let id, let path, let body):
            writer.uint8(2)
            writer.uint64(id)
            writer.string(path)
            writer.lengthPrefixed(body)
        case .forwardResponse(let id, let status, let body):
            writer.uint8(3)
            writer.uint64(id)
            writer.uint32(UInt32(status))
            writer.lengthPrefixed(body)
        case .attributes(let name, let urls):
            writer.uint8(4)
            writer.string(name)
            writer.uint32(UInt32(urls.count))
            for url in urls { writer.string(url) }
        }
        return writer.bytes
    }

    init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        switch reader.uint8() {
        case 1:
            guard let message = Raft.Message(from: &reader) else { return nil }
            self = .raft(message)
        case 2:
            guard let id = reader.uint64(), let path = reader.string(), let body = reader.lengthPrefixed() else { return nil }
            self = .forwardRequest(id: id, path: path, body: body)
        case 3:
            guard let id = reader.uint64(), let status = reader.uint32(), let body = reader.lengthPrefixed() else { return nil }
            self = .forwardResponse(id: id, status: Int(status), body: body)
        case 4:
            guard let name = reader.string(), let count = reader.uint32(), count <= 64 else { return nil }
            var urls: [String] = []
            for _ in 0..<count {
                guard let url = reader.string() else { return nil }
                urls.append(url)
            }
            self = .attributes(name: name, clientURLs: urls)
        default:
            return nil
        }
        guard reader.atEnd else { return nil }
    }
}
