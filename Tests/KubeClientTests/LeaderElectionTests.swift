//! The leader-election decision, case by case: what a candidate does with an absent, a live, an
//! expired and its own Lease; that expiry is judged by when the candidate saw the record change
//! (not by the renewTime written in it); that a leader stops at its renew deadline.

import Base
import KubeAPI
import KubeClient
import Wire
import Testing

private let second = Time.second
private let wall: Int64 = 1_795_428_000_000_000  // 2026-11-23T10:00:00Z in microseconds

private func lease(_ holder: String, version: String, transitions: Int64 = 0, renewTime: String? = "2026-11-23T10:00:00.000000Z",
    duration: Int64 = 15) -> ObservedLease
{
    ObservedLease(record: LeaseRecord(holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: renewTime,
        renewTime: renewTime, leaseTransitions: transitions), resourceVersion: version)
}

/// A LeaderElection behind a reference, so `#expect` can check what its mutating calls return.
private final class Driven {
    var election: LeaderElection
    init(identity: String) { election = LeaderElection(identity: identity) }
    func decide(read: ObservedLease?, now: Nanoseconds, wallMicroseconds: Int64) -> LeaseDecision {
        election.decide(read: read, now: now, wallMicroseconds: wallMicroseconds)
    }
    func writeSucceeded(_ written: ObservedLease, attemptStart: Nanoseconds, now: Nanoseconds) -> Bool {
        election.writeSucceeded(written, attemptStart: attemptStart, now: now)
    }
    func expire(now: Nanoseconds) -> Bool { election.expire(now: now) }
    func release(wallMicroseconds: Int64) -> LeaseRecord? { election.release(wallMicroseconds: wallMicroseconds) }
    func isLeading(now: Nanoseconds) -> Bool { election.isLeading(now: now) }
}

@Suite struct LeaderElectionTests {
    @Test func defaultsAreKubernetes() {
        let timing = LeaderElectionTiming()
        #expect(timing.leaseDuration == 15 * second)
        #expect(timing.renewDeadline == 10 * second)
        #expect(timing.retryPeriod == 2 * second)
    }

    @Test func anAbsentLeaseIsCreated() {
        let election = Driven(identity: "a")
        let decision = election.decide(read: nil, now: 100 * second, wallMicroseconds: wall)
        #expect(decision == .acquire(LeaseRecord(holderIdentity: "a", leaseDurationSeconds: 15,
            acquireTime: "2026-11-23T10:00:00.000000Z", renewTime: "2026-11-23T10:00:00.000000Z", leaseTransitions: 0)))
        #expect(!election.isLeading(now: 100 * second), "deciding to acquire is not leading")
    }

    @Test func aLiveLeaseIsWaitedOutFromWhenItWasSeen() {
        let election = Driven(identity: "b")
        let held = lease("a", version: "7")
        #expect(election.decide(read: held, now: 100 * second, wallMicroseconds: wall) == .wait(holder: "a", expiresAt: 115 * second))
        // Unchanged for less than the duration: still waiting.
        #expect(election.decide(read: held, now: 114 * second, wallMicroseconds: wall) == .wait(holder: "a", expiresAt: 115 * second))
        // Unchanged for the whole duration: taken, one more transition.
        guard case .acquire(let record) = election.decide(read: held, now: 115 * second, wallMicroseconds: wall) else {
            Issue.record("an expired lease was not acquired")
            return
        }
        #expect(record.holderIdentity == "b")
        #expect(record.leaseTransitions == 1)
    }

    @Test func aChangedRecordRestartsTheWait() {
        let election = Driven(identity: "b")
        _ = election.decide(read: lease("a", version: "7"), now: 100 * second, wallMicroseconds: wall)
        // The holder renewed (new resourceVersion) at 110 s: the wait runs from then.
        #expect(election.decide(read: lease("a", version: "9"), now: 110 * second, wallMicroseconds: wall)
            == .wait(holder: "a", expiresAt: 125 * second))
        // Even a write that leaves the record as it was (same renewTime) counts as a change.
        #expect(election.decide(read: lease("a", version: "11"), now: 124 * second, wallMicroseconds: wall)
            == .wait(holder: "a", expiresAt: 139 * second))
    }

    @Test func anOldRenewTimeDoesNotExpireALeaseJustSeen() {
        // The holder's wall clock is a day behind: its renewTime looks ancient. Expiry is judged
        // by my own clock from when I saw the record, so I still wait the full duration.
        let election = Driven(identity: "b")
        let skewed = lease("a", version: "3", renewTime: "2026-11-22T10:00:00.000000Z")
        #expect(election.decide(read: skewed, now: 50 * second, wallMicroseconds: wall) == .wait(holder: "a", expiresAt: 65 * second))
    }

    @Test func aReleasedLeaseIsTakenAtOnce() {
        let election = Driven(identity: "b")
        let released = lease("", version: "5", transitions: 3, duration: 1)
        guard case .acquire(let record) = election.decide(read: released, now: 10 * second, wallMicroseconds: wall) else {
            Issue.record("a lease without holder was not acquired")
            return
        }
        #expect(record.leaseTransitions == 4)
        #expect(record.leaseDurationSeconds == 15)
    }

    @Test func aLeaderRenewsKeepingAcquireTimeAndTransitions() {
        let election = Driven(identity: "a")
        let mine = lease("a", version: "4", transitions: 2, renewTime: "2026-11-23T09:00:00.000000Z")
        #expect(election.writeSucceeded(mine, attemptStart: 10 * second, now: 10 * second + 5_000))
        #expect(election.isLeading(now: 19 * second))
        #expect(!election.isLeading(now: 20 * second), "the deadline is attemptStart + renewDeadline")
        let decision = election.decide(read: mine, now: 12 * second, wallMicroseconds: wall + 1)
        #expect(decision == .renew(LeaseRecord(holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-23T09:00:00.000000Z",
            renewTime: "2026-11-23T10:00:00.000001Z", leaseTransitions: 2)))
    }

    @Test func aLeaderStopsAtItsRenewDeadline() {
        let election = Driven(identity: "a")
        #expect(election.writeSucceeded(lease("a", version: "4"), attemptStart: 10 * second, now: 11 * second))
        #expect(!election.expire(now: 19 * second))
        #expect(election.expire(now: 20 * second))
        #expect(!election.isLeading(now: 20 * second))
        #expect(!election.expire(now: 21 * second), "leadership ends once")
        // The same happens when the deadline is found while deciding.
        #expect(election.writeSucceeded(lease("a", version: "6"), attemptStart: 30 * second, now: 30 * second))
        guard case .lost = election.decide(read: lease("a", version: "6"), now: 40 * second, wallMicroseconds: wall) else {
            Issue.record("a leader past its deadline did not lose")
            return
        }
    }

    @Test func aLateSuccessDoesNotMakeALeader() {
        let election = Driven(identity: "a")
        // The write started at 10 s and its answer came back at 21 s: past 10 s + renewDeadline.
        #expect(!election.writeSucceeded(lease("a", version: "4"), attemptStart: 10 * second, now: 21 * second))
        #expect(!election.isLeading(now: 21 * second))
    }

    @Test func aLeaderThatSeesAnotherHolderLoses() {
        let election = Driven(identity: "a")
        _ = election.writeSucceeded(lease("a", version: "4"), attemptStart: 10 * second, now: 10 * second)
        guard case .lost(let why) = election.decide(read: lease("b", version: "8"), now: 12 * second, wallMicroseconds: wall) else {
            Issue.record("a leader kept leading a lease held by another")
            return
        }
        #expect(why.contains("held by b"))
        #expect(!election.isLeading(now: 12 * second))
    }

    @Test func aLeaderWhoseLeaseVanishedLoses() {
        let election = Driven(identity: "a")
        _ = election.writeSucceeded(lease("a", version: "4"), attemptStart: 10 * second, now: 10 * second)
        #expect(election.decide(read: nil, now: 12 * second, wallMicroseconds: wall) == .lost("the lease was deleted"))
    }

    @Test func releaseHandsTheLeaseBack() {
        let election = Driven(identity: "a")
        #expect(election.release(wallMicroseconds: wall) == nil, "nothing to release before holding")
        _ = election.writeSucceeded(lease("a", version: "4", transitions: 5), attemptStart: 10 * second, now: 10 * second)
        let record = election.release(wallMicroseconds: wall)
        #expect(record?.holderIdentity == "")
        #expect(record?.leaseDurationSeconds == 1)
        #expect(record?.leaseTransitions == 5)
        #expect(!election.isLeading(now: 10 * second))
    }

    @Test func leaseRecordsRoundTripThroughTheLeaseSpec() {
        let record = LeaseRecord(holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-23T10:00:00.000000Z",
            renewTime: "2026-11-23T10:00:02.500000Z", leaseTransitions: 3)
        let object: JSONValue = .object(["metadata": .object(["resourceVersion": .string("42")]), "spec": record.spec])
        let observed = ObservedLease(lease: object)
        #expect(observed == ObservedLease(record: record, resourceVersion: "42"))
        #expect(LeaseRecord(lease: .object([:])) == LeaseRecord(holderIdentity: "", leaseDurationSeconds: 0, acquireTime: nil,
            renewTime: nil, leaseTransitions: 0))
    }

    @Test func microTimeHasSixFractionalDigits() {
        #expect(MicroTime.format(microseconds: wall) == "2026-11-23T10:00:00.000000Z")
        #expect(MicroTime.format(microseconds: wall + 2_500_001) == "2026-11-23T10:00:02.500001Z")
        #expect(MicroTime.format(microseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(MicroTime.parse("2026-11-23T10:00:02.500001Z") == wall + 2_500_001)
        #expect(MicroTime.parse("2026-11-23T10:00:02Z") == wall + 2_000_000)
        #expect(MicroTime.parse("yesterday") == nil)
    }
}
