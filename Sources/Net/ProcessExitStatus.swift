//! How a finished child process ended, as a shell and container runtimes report it: its exit
//! status, or 128 + the signal's number when a signal ended it. One definition for the
//! kubelet's container runtime (a container's exit code) and the built-in containers (the exit
//! status of the command they run).

import Foundation

extension Process {
    /// The signal that ended the process; nil when it exited. Read it only once the process has
    /// ended (after `waitUntilExit`, or in its termination handler), as `terminationStatus`.
    public var terminatingSignal: Int32? {
        terminationReason == .uncaughtSignal ? terminationStatus : nil
    }

    /// The exit status as a shell reports it: the process's own, or 128 + the signal that ended
    /// it (SIGKILL: 137, SIGTERM: 143).
    public var shellExitStatus: Int32 {
        terminatingSignal.map { 128 + $0 } ?? terminationStatus
    }
}
