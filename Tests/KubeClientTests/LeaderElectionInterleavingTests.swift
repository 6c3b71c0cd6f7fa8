//! Two and three candidates driven through seeded interleavings against a model store: requests
//! take random time, partitions drop requests and answers (a write may land with its answer
//! lost), each candidate's monotonic clock has its own origin and its wall clock its own offset.
//! After every event no two candidates may believe they lead. A known-bad candidate that ignores
//! its renew deadline (stops only when it sees another holder) must be caught doing it.

import Base
import KubeClient
import Testing

/// The store's Lease: the record and a version every write bumps.
private struct ModelLease {
    var record: LeaseRecord
    var version: Int
    var observed: ObservedLease { ObservedLease(record: record, resourceVersion: String(version)) }
}

private enum Step {
    case attempt
    case readServed(attemptStart: Nanoseconds)
    case readAnswered(ObservedLease?)
    case writeLands(LeaseRecord, expectedVersion: Int?, attemptStart: Nanoseconds)
    case writeAnswered(ObservedLease?, attemptStart: Nanoseconds)
    case requestFailed
}

private struct Candidate {
    var election: LeaderElection
    /// Added to the simulation time to give this candidate's monotonic clock.
    var clockOrigin: Nanoseconds
    var wallOffset: Int64
    /// Known-bad mode: believes it leads from a successful write until it sees another holder.
    var honoursDeadline: Bool
    var believesBadly = false
    /// Cut off from the apiserver until then.
    var cutUntil: Nanoseconds = 0

    func believesLeading(at time: Nanoseconds) -> Bool {
        honoursDeadline ? election.isLeading(now: time + clockOrigin) : believesBadly
    }
}

private struct Simulation {
    var random: SeededRandom
    var candidates: [Candidate]
    var lease: ModelLease?
    var queue: [(time: Nanoseconds, order: Int, candidate: Int, step: Step)] = []
    var order = 0
    var now: Nanoseconds = 0
    let timing: LeaderElectionTiming
    let requestTimeout = 10 * Time.second
    var leaderships = 0
    var violation: String?

    init(seed: UInt64, candidates count: Int, badCandidate: Int? = nil, timing: LeaderElectionTiming) {
        random = SeededRandom(seed: seed)
        self.timing = timing
        candidates = []
        for index in 0..<count {
            candidates.append(Candidate(
                election: LeaderElection(identity: "c\(index)", timing: timing),
                clockOrigin: random.int64(in: 0...1_000_000) * Time.second, wallOffset: random.int64(in: -3600...3600) * 1_000_000,
                honoursDeadline: index != badCandidate))
        }
        for index in 0..<count { schedule(index, .attempt, at: random.int64(in: 0...(2 * Time.second))) }
    }

    mutating func schedule(_ candidate: Int, _ step: Step, at time: Nanoseconds) {
        queue.append((time, order, candidate, step))
        order += 1
    }

    /// A request's one-way delay: mostly a few milliseconds, now and then up to 1.5 s (a slow
    /// apiserver, a retransmission), so that answers overtake other candidates' reads.
    mutating func delay() -> Nanoseconds {
        random.chance(0.7) ? random.int64(in: 0...(20 * Time.millisecond)) : random.int64(in: 0...(1500 * Time.millisecond))
    }

    func local(_ candidate: Int) -> Nanoseconds { now + candidates[candidate].clockOrigin }
    func wall(_ candidate: Int) -> Int64 { 1_795_428_000_000_000 + now / 1_000 + candidates[candidate].wallOffset }
    func isCut(_ candidate: Int) -> Bool { now < candidates[candidate].cutUntil }

    /// When a request that will get no answer fails: after the timeout, but a leader's shell
    /// never waits past its deadline.
    func failureTime(_ candidate: Int) -> Nanoseconds {
        var at = now + requestTimeout
        if let deadline = candidates[candidate].election.leadingDeadline { at = min(at, deadline - candidates[candidate].clockOrigin) }
        return max(now, at)
    }

    /// The shell's sleep: a retry period, cut short at a leader's deadline.
    mutating func sleep(_ candidate: Int) {
        var at = now + timing.retryPeriod
        if let deadline = candidates[candidate].election.leadingDeadline { at = min(at, max(now, deadline - candidates[candidate].clockOrigin)) }
        schedule(candidate, .attempt, at: at)
    }

    mutating func run(until end: Nanoseconds) {
        while let next = queue.indices.min(by: { (queue[$0].time, queue[$0].order) < (queue[$1].time, queue[$1].order) }) {
            let event = queue.remove(at: next)
            guard event.time <= end else { break }
            now = event.time
            // Partitions come and go: now and then a candidate is cut off for a while.
            if random.chance(0.02) {
                let victim = random.int(in: 0...(candidates.count - 1))
                candidates[victim].cutUntil = now + random.int64(in: 1...25) * Time.second
            }
            handle(event.candidate, event.step)
            check()
            if violation != nil { return }
        }
    }

    mutating func handle(_ index: Int, _ step: Step) {
        switch step {
        case .attempt:
            _ = candidates[index].election.expire(now: local(index))
            if isCut(index) { schedule(index, .requestFailed, at: failureTime(index)) } else {
                schedule(index, .readServed(attemptStart: local(index)), at: now + delay())
            }
        case .readServed:
            if isCut(index) { schedule(index, .requestFailed, at: failureTime(index)) } else {
                schedule(index, .readAnswered(lease?.observed), at: now + delay())
            }
        case .readAnswered(let read):
            let start = local(index)
            let decision = candidates[index].election.decide(read: read, now: start, wallMicroseconds: wall(index))
            switch decision {
            case .acquire(let record), .renew(let record):
                if isCut(index) { schedule(index, .requestFailed, at: failureTime(index)) } else {
                    schedule(index, .writeLands(record, expectedVersion: read.map { Int($0.resourceVersion)! }, attemptStart: start),
                        at: now + delay())
                }
            case .wait:
                if read?.record.holderIdentity != candidates[index].election.identity { candidates[index].believesBadly = false }
                sleep(index)
            case .lost:
                candidates[index].believesBadly = false
                sleep(index)
            }
        case .writeLands(let record, let expected, let attemptStart):
            var written: ObservedLease?
            if lease?.version == expected {
                lease = ModelLease(record: record, version: (lease?.version ?? 0) + 1)
                written = lease!.observed
            }
            // A cut link loses the answer of a write that landed.
            if isCut(index) { schedule(index, .requestFailed, at: failureTime(index)) } else {
                schedule(index, .writeAnswered(written, attemptStart: attemptStart), at: now + delay())
            }
        case .writeAnswered(let written, let attemptStart):
            if let written {
                let wasLeading = candidates[index].election.isLeading(now: local(index))
                if candidates[index].election.writeSucceeded(written, attemptStart: attemptStart, now: local(index)) {
                    if !wasLeading { leaderships += 1 }
                    candidates[index].believesBadly = true
                }
            }
            sleep(index)
        case .requestFailed:
            sleep(index)
        }
    }

    mutating func check() {
        let leaders = candidates.indices.filter { candidates[$0].believesLeading(at: now) }
        if leaders.count > 1 {
            violation = "at \(Time.describe(now)) candidates \(leaders.map { "c\($0)" }) all believe they lead; lease \(String(describing: lease))"
        }
    }
}

@Suite struct LeaderElectionInterleavingTests {
    @Test(arguments: [2, 3])
    func neverTwoLeaders(candidates: Int) {
        var leaderships = 0
        for seed in UInt64(1)...60 {
            var simulation = Simulation(seed: seed * 7919 + UInt64(candidates), candidates: candidates, timing: LeaderElectionTiming())
            simulation.run(until: 600 * Time.second)
            #expect(simulation.violation == nil, "seed \(seed): \(simulation.violation ?? "")")
            leaderships += simulation.leaderships
        }
        // Leadership did change hands under the partitions (the check was exercised).
        #expect(leaderships > 60 * 3, "only \(leaderships) leaderships began over 60 runs")
    }

    @Test func neverTwoLeadersWithTightTiming() {
        // The smallest margin the timing allows: renewDeadline just under leaseDuration.
        let timing = LeaderElectionTiming(leaseDuration: 3 * Time.second, renewDeadline: 2900 * Time.millisecond,
            retryPeriod: 500 * Time.millisecond)
        for seed in UInt64(1)...150 {
            var simulation = Simulation(seed: seed, candidates: 3, timing: timing)
            simulation.run(until: 300 * Time.second)
            #expect(simulation.violation == nil, "seed \(seed): \(simulation.violation ?? "")")
        }
    }

    @Test func aLeaderIgnoringItsDeadlineIsCaught() {
        // Known bad: candidate 0 keeps believing until it sees another holder, so a partition
        // that hides the lease from it lets the other take over while it still leads.
        var caught = 0
        for seed in UInt64(1)...30 {
            var simulation = Simulation(seed: seed, candidates: 2, badCandidate: 0, timing: LeaderElectionTiming())
            simulation.run(until: 600 * Time.second)
            if simulation.violation != nil { caught += 1 }
        }
        #expect(caught > 0, "the checker never caught a leader that ignores its renew deadline")
    }
}
