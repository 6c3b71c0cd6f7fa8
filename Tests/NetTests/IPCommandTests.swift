//! IPCommand against the machine's own `ip`, read-only: its stdout on success; on failure the
//! exit status and a description naming the command and carrying ip's stderr, inside a
//! namespace too (`-n`). Skipped where iproute2 is not installed.

import Net
import Testing

@Suite(.enabled(if: IPCommand.path != nil, "'ip' (iproute2) is not installed"))
struct IPCommandTests {
    @Test func returnsStdoutOnSuccess() throws {
        let version = try IPCommand.run(["-V"])
        #expect(version.contains("iproute2"), "\(version)")
        let loopback = try IPCommand.run(["-o", "link", "show", "dev", "lo"])
        #expect(loopback.contains("lo:") && loopback.contains("LOOPBACK"), "\(loopback)")
    }

    @Test func failureCarriesTheStatusTheCommandAndStderr() {
        #expect {
            try IPCommand.run(["link", "show", "dev", "fl-no-such-link"])
        } throws: { error in
            guard let error = error as? IPCommandError else { return false }
            return error.status != nil && error.status != 0
                && error.description.hasPrefix("ip link show dev fl-no-such-link failed: ")
                && error.description.contains("does not exist")
        }
    }

    @Test func aNamespaceBecomesDashN() {
        #expect(IPCommand.words(["link", "show"], namespace: "fl-x-sw") == ["-n", "fl-x-sw", "link", "show"])
        #expect(IPCommand.words(["link", "show"], namespace: nil) == ["link", "show"])
        // A namespace that does not exist: ip refuses, and the error names it.
        #expect {
            try IPCommand.run(["link", "show"], namespace: "fl-no-such-namespace")
        } throws: { error in
            guard let error = error as? IPCommandError else { return false }
            return error.status != nil && error.status != 0
                && error.description.hasPrefix("ip -n fl-no-such-namespace link show failed: ")
                && error.description.contains("fl-no-such-namespace\": No such file")
        }
    }
}
