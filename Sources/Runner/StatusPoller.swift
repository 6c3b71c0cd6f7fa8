//! StatusPoller: asks every member who leads, in which term, every `interval` (one thread per
//! member, so a member behind a blackhole delays nobody else's samples). The samples feed the
//! election-safety check (never two leaders in one term), the nemesis's `leader` selector, the
//! progress line and the report's leader track.

import Base
import EtcdClient
import Foundation
import Net

public struct LeaderObservation: Sendable {
    public var time: Nanoseconds
    public var member: String
    /// Nil when the member did not answer in time.
    public var term: Int64?
    /// The leader the member names (a host name), nil when it knows none or did not answer.
    public var leader: String?
    public var revision: Int64?
    public var reachable: Bool { term != nil }

    public init(time: Nanoseconds, member: String, term: Int64? = nil, leader: String? = nil, revision: Int64? = nil) {
        (self.time, self.member, self.term, self.leader, self.revision) = (time, member, term, leader, revision)
    }
    public var isLeader: Bool { leader == member }
}

public final class StatusPoller: @unchecked Sendable {
    private let members: [(name: String, url: String)]
    private let interval: Nanoseconds
    private let timeout: Nanoseconds
    private let clock: @Sendable () -> Nanoseconds
    private let lock = NSLock()
    private var names: [UInt64: String] = [:]
    private var samples: [LeaderObservation] = []
    private var latest: [String: LeaderObservation] = [:]
    private var running = false
    private let finished = DispatchGroup()
    /// Samples kept (a sample per member per interval; 100 ms × 5 members × 1 h fits).
    public static let samplesMax = 500_000

    public init(members: [(name: String, url: String)], interval: Nanoseconds = 100 * Time.millisecond,
        timeout: Nanoseconds = 500 * Time.millisecond, clock: @escaping @Sendable () -> Nanoseconds)
    {
        self.members = members
        self.interval = interval
        self.timeout = timeout
        self.clock = clock
    }

    /// Learns member ids (each member's status header names its own id), then starts polling.
    public func start() {
        for member in members {
            if let status = try? EtcdClient(endpoints: [member.url], timeout: 2 * Time.second).status() {
                lock.withLock { names[status.header.memberID] = member.name }
            }
        }
        lock.withLock { running = true }
        for member in members {
            finished.enter()
            Thread { [self] in
                poll(member)
                finished.leave()
            }.start()
        }
    }

    public func stop() {
        lock.withLock { running = false }
        finished.wait()
    }

    public var observations: [LeaderObservation] { lock.withLock { samples } }

    /// The leader most members that answered recently agree on (nil when none or no agreement).
    public var currentLeader: String? {
        let now = clock()
        let recent = lock.withLock { latest.values.filter { $0.reachable && now - $0.time < 3 * interval + timeout } }
        guard let top = recent.max(by: { ($0.term ?? 0) < ($1.term ?? 0) }), let term = top.term else { return nil }
        let claims = recent.filter { $0.term == term }.compactMap(\.leader)
        let counts = Dictionary(grouping: claims, by: { $0 }).mapValues(\.count)
        return counts.max { $0.value < $1.value }?.key
    }

    /// The newest sample of each member.
    public var latestByMember: [String: LeaderObservation] { lock.withLock { latest } }

    private func poll(_ member: (name: String, url: String)) {
        let client = EtcdClient(endpoints: [member.url], timeout: timeout)
        while lock.withLock({ running }) {
            let started = clock()
            var sample = LeaderObservation(time: started, member: member.name)
            if let status = try? client.status() {
                sample.term = status.raftTerm
                sample.revision = status.header.revision
                sample.leader = status.leader == 0 ? nil : lock.withLock { names[status.leader] } ?? "id:\(String(status.leader, radix: 16))"
                // A member restarted with wiped data gets the same name but the poller learns its id here.
                lock.withLock { if names[status.header.memberID] == nil { names[status.header.memberID] = member.name } }
            }
            lock.withLock {
                if samples.count < Self.samplesMax { samples.append(sample) }
                latest[member.name] = sample
            }
            let elapsed = clock() - started
            if elapsed < interval { usleep(UInt32((interval - elapsed) / 1000)) }
        }
    }
}
