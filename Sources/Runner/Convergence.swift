//! Convergence: what each member holds once the faults are healed — its revision and a digest
//! of every key, value and mod revision it serves locally (serializable reads, so a lagging
//! member shows its own state). The recovery check asks that every member answers and that all
//! agree. etcd 3.4's gateway has no HashKV route and its Hash covers the bolt file, which differs
//! between members, so the digest is computed here from the data itself.

import Base
import EtcdClient
import Glibc
import Net

public struct MemberSnapshot: Sendable, Equatable {
    public var member: String
    /// Nil when the member did not answer.
    public var revision: Int64?
    public var digest: UInt64?
    public var keys: Int
}

public enum Convergence {
    /// One member's state now.
    public static func state(of member: String, url: String, timeout: Nanoseconds = 2 * Time.second) -> MemberSnapshot {
        let client = EtcdClient(endpoints: [url], timeout: timeout)
        guard let range = try? client.getAll(serializable: true) else {
            return MemberSnapshot(member: member, revision: nil, digest: nil, keys: 0)
        }
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: [UInt8]) {
            for byte in bytes + [0xff] {
                digest ^= UInt64(byte)
                digest &*= 0x0000_0100_0000_01b3
            }
        }
        for kv in range.kvs.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            mix(kv.key)
            mix(kv.value)
            mix(Array(String(kv.modRevision).utf8))
        }
        return MemberSnapshot(member: member, revision: range.header.revision, digest: digest, keys: range.kvs.count)
    }

    /// Polls every member until all answer with the same revision and digest, or `timeout`
    /// passes; answers the last states and how long it took (nil when they never agreed).
    public static func await(_ members: [(name: String, url: String)], timeout: Nanoseconds,
        interval: Nanoseconds = 200 * Time.millisecond) -> (states: [MemberSnapshot], after: Nanoseconds?)
    {
        let started = MonotonicClock.now()
        var states: [MemberSnapshot] = []
        while true {
            states = members.map { state(of: $0.name, url: $0.url) }
            let answered = states.allSatisfy { $0.revision != nil }
            if answered && Set(states.map(\.revision)).count == 1 && Set(states.map(\.digest)).count == 1 {
                return (states, MonotonicClock.now() - started)
            }
            if MonotonicClock.now() - started >= timeout { return (states, nil) }
            usleep(UInt32(interval / 1000))
        }
    }
}
