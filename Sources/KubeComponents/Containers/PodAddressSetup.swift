//! Pod addresses on the node. An address in 127.0.0.0/8 needs nothing (Linux answers the whole
//! block on `lo`), which is how loopback clusters give pods their own IPs without root. Any
//! other address is added to `lo` of the node's network namespace as a /32 (`ip addr add`), so
//! the pod's servers can bind it; that needs root in the namespace, which the testbed has.

import KubeAPI
import Net

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
        do { try IPCommand.run(arguments) } catch { log(error.description) }
    }
}
