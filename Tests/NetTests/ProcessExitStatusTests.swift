//! A finished process's exit status as a shell reports it: its own status when it exited,
//! 128 + the signal when a signal ended it (and then the signal too).

import Foundation
import Net
import Testing

@Suite struct ProcessExitStatusTests {
    func finished(_ script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        return process
    }

    @Test func anExitKeepsItsStatusAndHasNoSignal() throws {
        let exited = try finished("exit 3")
        #expect(exited.shellExitStatus == 3 && exited.terminatingSignal == nil)
        let clean = try finished("exit 0")
        #expect(clean.shellExitStatus == 0 && clean.terminatingSignal == nil)
    }

    @Test func aSignalIs128PlusItsNumber() throws {
        // SIGKILL, since it cannot be blocked: a child started from a test's thread inherits
        // that thread's signal mask, which blocks most others (SIGTERM, SIGHUP, SIGUSR1...).
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        #expect(sleeper.terminatingSignal == SIGKILL)
        #expect(sleeper.shellExitStatus == 137, "not the bare signal number \(sleeper.terminationStatus)")
        // Known bad: exiting with 9 is not being ended by signal 9.
        let exited9 = try finished("exit 9")
        #expect(exited9.terminatingSignal == nil && exited9.shellExitStatus == 9)
    }
}
