//! An echo server on loopback: every byte sent back on the connection it came in on. The fixture
//! `faultline bench proxy` and the proxy's tests relay through.

import Foundation
import Glibc
import Net

public final class EchoServer: @unchecked Sendable {
    private let listener: Int32
    public let port: UInt16

    public init() throws(NetError) {
        listener = try Socket.listen(Endpoint(host: "127.0.0.1", port: 0))
        port = Socket.localPort(listener)
        Thread { [listener] in
            while let fd = Socket.accept(listener) {
                Socket.setNoDelay(fd)
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 1 << 20)
                    while case .data(let bytes) = buffer.withUnsafeMutableBytes({ Socket.receive(fd, into: $0) }) {
                        if !buffer.withUnsafeBytes({ Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<bytes])) }) { break }
                    }
                    close(fd)
                }.start()
            }
            close(listener)
        }.start()
    }

    /// Stops accepting; connections already open end when their clients close.
    public func stop() { shutdown(listener, Int32(SHUT_RDWR)) }
}
