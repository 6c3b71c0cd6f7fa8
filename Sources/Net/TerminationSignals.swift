//! SIGTERM and SIGINT as a semaphore signal, for daemons that stop cleanly on either.

import Dispatch
import Glibc
import Synchronization

public enum TerminationSignals {
    /// Every source made, kept for the life of the process. A caller's local `let signals = …`
    /// is not enough: an optimised build may release a local after its last real use, which
    /// cancels the sources and lets SIGTERM go unnoticed (the apiserver hung that way).
    private static let retained = Mutex<[UncheckedSource]>([])

    /// From now on SIGTERM and SIGINT signal `semaphore` instead of killing the process.
    @discardableResult
    public static func signal(_ semaphore: DispatchSemaphore) -> [DispatchSourceSignal] {
        let sources = [SIGTERM, SIGINT].map { number in
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            return source
        }
        retained.withLock { $0 += sources.map(UncheckedSource.init) }
        return sources
    }
}

/// A dispatch source is thread-safe; the wrapper only lets the static list hold it.
private struct UncheckedSource: @unchecked Sendable {
    let source: DispatchSourceSignal
    init(_ source: DispatchSourceSignal) { self.source = source }
}
