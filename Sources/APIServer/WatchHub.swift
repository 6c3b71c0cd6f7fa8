//! The watches the apiserver is streaming. Each runs on its own connection's thread, blocked on
//! the store's watch; this hub's ticker thread looks at them every `tick`: it ends a watch whose
//! client has gone or whose time is up (the store's stream is interrupted, so the thread returns
//! at once instead of at the next event), and sends BOOKMARK events to clients that asked for
//! them. Writes to a client go through one lock per watch, since both threads write.

import Base
import EtcdClient
import Foundation
import Net
import Synchronization

final class ActiveWatch: @unchecked Sendable {
    let cancel = WatchCancel()
    let deadline: Nanoseconds
    /// Renders a BOOKMARK event at a revision; nil when the client did not ask for bookmarks.
    let bookmark: ((Int64) -> [UInt8])?
    private let lock = NSLock()
    private let responder: HTTPResponder
    /// The newest revision the client has been sent (an event or a bookmark).
    private var revision: Int64
    private var lastSent: Nanoseconds

    init(responder: HTTPResponder, revision: Int64, deadline: Nanoseconds, bookmark: ((Int64) -> [UInt8])?) {
        self.responder = responder
        self.revision = revision
        self.deadline = deadline
        self.bookmark = bookmark
        lastSent = MonotonicClock.now()
    }

    /// The store has sent everything up to `progress`: the next BOOKMARK may say so even when
    /// nothing in this collection changed.
    func noteProgress(_ progress: Int64) {
        lock.withLock { revision = max(revision, progress) }
    }

    /// Sends one event line; false once the client is gone.
    func send(_ line: [UInt8], revision newRevision: Int64) -> Bool {
        lock.withLock {
            revision = max(revision, newRevision)
            lastSent = MonotonicClock.now()
            return responder.write(line)
        }
    }

    /// What the ticker does for this watch now.
    func tick(now: Nanoseconds, bookmarkInterval: Nanoseconds) {
        let (gone, due) = lock.withLock { () -> (Bool, [UInt8]?) in
            if responder.clientGone || now >= deadline { return (true, nil) }
            guard let bookmark, now - lastSent >= bookmarkInterval else { return (false, nil) }
            lastSent = now
            return (false, bookmark(revision))
        }
        if gone {
            cancel.cancel()
        } else if let due {
            let sent = lock.withLock { responder.write(due) }
            if !sent { cancel.cancel() }
        }
    }
}

final class WatchHub: Sendable {
    /// Watches at once; one more is refused with 429 (each holds a thread and a store stream).
    static let watchesMax = 2048
    let tick: Nanoseconds
    /// How long a quiet watch goes without a BOOKMARK (the real apiserver sends one about a minute apart).
    let bookmarkInterval: Nanoseconds
    private let watches = Mutex<[ObjectIdentifier: ActiveWatch]>([:])
    private let running = Atomic<Bool>(false)

    init(tick: Nanoseconds = Time.second, bookmarkInterval: Nanoseconds = 60 * Time.second) {
        self.tick = tick
        self.bookmarkInterval = bookmarkInterval
    }

    var count: Int { watches.withLock { $0.count } }

    func start() {
        guard !running.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            while running.load(ordering: .sequentiallyConsistent) {
                let now = MonotonicClock.now()
                for watch in watches.withLock({ Array($0.values) }) { watch.tick(now: now, bookmarkInterval: bookmarkInterval) }
                usleep(UInt32(tick / Time.microsecond))
            }
        }
        thread.name = "watch-hub"
        thread.start()
    }

    /// Ends every watch and stops the ticker.
    func stop() {
        running.store(false, ordering: .sequentiallyConsistent)
        for watch in watches.withLock({ Array($0.values) }) { watch.cancel.cancel() }
    }

    /// Adds a watch; nil when the hub is full.
    func register(_ watch: ActiveWatch) -> Bool {
        watches.withLock { watches in
            guard watches.count < Self.watchesMax else { return false }
            watches[ObjectIdentifier(watch)] = watch
            return true
        }
    }

    func unregister(_ watch: ActiveWatch) {
        _ = watches.withLock { $0.removeValue(forKey: ObjectIdentifier(watch)) }
    }
}
