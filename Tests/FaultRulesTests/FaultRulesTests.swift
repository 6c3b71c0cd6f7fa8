//! The fault rules' decisions per directed link, and what they refuse.

import Base
import FaultRules
import Testing

@Suite struct FaultRulesTests {
    let hosts: Set<String> = ["a", "b", "c", "d"]

    @Test func partitionBlocksAcrossGroupsAndUnnamedHostsGroupTogether() throws {
        var table = FaultTable(hosts: hosts)
        _ = try table.add([FaultRule(kind: .partition, groups: [["a"], ["b"]])])
        #expect(table.policy(from: "a", to: "b").block == .blackhole && table.policy(from: "b", to: "a").block == .blackhole)
        // c, d and client are named nowhere: one more group, cut from a and b, not from each other.
        #expect(table.policy(from: "c", to: "d") == .open && table.policy(from: "client", to: "c") == .open)
        #expect(table.policy(from: "c", to: "a").block == .blackhole && table.policy(from: "client", to: "b").block == .blackhole)
        #expect(table.policy(from: "a", to: "a") == .open)
    }

    @Test func isolateSparesTheClientUnlessAsked() throws {
        var table = FaultTable(hosts: hosts)
        _ = try table.add([FaultRule(kind: .isolate, host: "a", mode: .reject)])
        #expect(table.policy(from: "a", to: "b").block == .reject && table.policy(from: "c", to: "a").block == .reject)
        #expect(table.policy(from: "client", to: "a") == .open && table.policy(from: "b", to: "c") == .open)
        table.removeAll()
        _ = try table.add([FaultRule(kind: .isolate, host: "a", includeClient: true)])
        #expect(table.policy(from: "client", to: "a").block == .blackhole)
    }

    @Test func cutIsOneWayAndLatencyAdds() throws {
        var table = FaultTable(hosts: hosts)
        let ids = try table.add([FaultRule(kind: .cut, from: "a", to: "b"),
            FaultRule(kind: .latency, from: "a", to: "c", delay: 100 * Time.millisecond, jitter: 10 * Time.millisecond),
            FaultRule(kind: .latency, from: "a", to: "c", delay: 50 * Time.millisecond)])
        #expect(ids == ["r1", "r2", "r3"])
        #expect(table.policy(from: "a", to: "b").block == .blackhole && table.policy(from: "b", to: "a") == .open)
        #expect(table.policy(from: "a", to: "c") == LinkPolicy(block: nil, delay: 150 * Time.millisecond, jitter: 10 * Time.millisecond))
        #expect(table.policy(from: "c", to: "a") == .open, "latency is per direction")
        // The lowest bandwidth wins.
        var slow = FaultRule(kind: .bandwidth, from: "a", to: "d")
        slow.bytesPerSecond = 1_000
        var fast = slow
        fast.bytesPerSecond = 1_000_000
        _ = try table.add([fast, slow])
        #expect(table.policy(from: "a", to: "d").bytesPerSecond == 1_000 && table.policy(from: "d", to: "a").bytesPerSecond == nil)
        // Reject beats blackhole on the same link.
        _ = try table.add([FaultRule(kind: .cut, from: "a", to: "b", mode: .reject)])
        #expect(table.policy(from: "a", to: "b").block == .reject)
        let version = table.version
        #expect(table.remove("r1") && !table.remove("r1") && table.version > version)
    }

    @Test func rulesWithATTLHealThemselves() throws {
        var table = FaultTable(hosts: hosts)
        var timed = FaultRule(kind: .cut, from: "a", to: "b")
        timed.ttlNanoseconds = 10 * Time.second
        _ = try table.add([timed, FaultRule(kind: .cut, from: "b", to: "a")], now: 100 * Time.second)
        #expect(table.expire(now: 109 * Time.second).isEmpty && table.rules.count == 2)
        #expect(table.expire(now: 110 * Time.second) == ["r1"])
        #expect(table.policy(from: "a", to: "b") == .open && table.policy(from: "b", to: "a").block == .blackhole)
        var bad = FaultRule(kind: .isolate, host: "a")
        bad.ttlNanoseconds = 0
        #expect(throws: FaultRuleError.self) { try table.add([bad]) }
    }

    @Test func badRulesAreRefusedAndNothingIsApplied() {
        var table = FaultTable(hosts: hosts)
        let bad: [(FaultRule, String)] = [
            (FaultRule(kind: .isolate, host: "zz"), "unknown host 'zz'"),
            (FaultRule(kind: .partition, groups: []), "partition needs groups"),
            (FaultRule(kind: .partition, groups: [["a"], ["a", "b"]]), "in two groups"),
            (FaultRule(kind: .cut, from: "a", to: "a"), "two different hosts"),
            (FaultRule(kind: .cut, from: "a"), "needs 'to'"),
            (FaultRule(kind: .latency, from: "a", to: "b"), "needs a delay"),
            (FaultRule(kind: .latency, from: "a", to: "b", delay: Time.millisecond, jitter: Time.second), "jitter"),
            (FaultRule(kind: .bandwidth, from: "a", to: "b"), "bandwidth needs a rate"),
        ]
        for (rule, message) in bad {
            // A good rule beside a bad one: the batch is refused whole.
            #expect {
                _ = try table.add([FaultRule(kind: .cut, from: "a", to: "b"), rule])
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        #expect(table.rules.isEmpty && table.version == 0)
    }
}
