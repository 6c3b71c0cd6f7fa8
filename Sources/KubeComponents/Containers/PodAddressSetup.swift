//! Pod addresses on the node. An address in 127.0.0.0/8 needs nothing (Linux answers the whole
//! block on `lo`), which is how loopback clusters give pods their own IPs without root. Any
//! other address is added to `lo` of the node's network namespace as a /32 (`ip addr add`), so
//! the pod's servers can bind it; that needs root in the namespace, which the testbed has.

import Foundation
import KubeAPI

enum PodAddressSetup {
    static func needsConfiguring(_ address: String) -> Bool {
        guard let value = IPv4Range.parse(address) else { return false }
        return value >> 24 != 127
    }

    static func add(_ address: String, log: @Sendable (String) -> Void) {
        guard needsConfiguring(address) else { return }
        ip(["addr", "replace", "\(address)/32", "dev", "lo"], log: log)
    }

    static func remove(_ address: String, log: @Sendable (String) -> Void) {
        guard needsConfiguring(address) else { return }
        ip(["addr", "del", "\(address)/32", "dev", "lo"], log: log)
    }

    private static func ip(_ arguments: [String], log: @Sendable (String) -> Void) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            log("ip \(arguments.joined(separator: " ")) did not run: \(error)")
            return
        }
        if process.terminationStatus != 0 {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            log("ip \(arguments.joined(separator: " ")) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
