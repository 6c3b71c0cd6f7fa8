//! SIGTERM and SIGINT as a semaphore signal, for daemons that stop cleanly on either.

import Dispatch
import Glibc

public enum TerminationSignals {
    /// From now on SIGTERM and SIGINT signal `semaphore` instead of killing the process. Keep the
    /// returned sources alive for as long as that should hold.
    public static func signal(_ semaphore: DispatchSemaphore) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            return source
        }
    }
}
