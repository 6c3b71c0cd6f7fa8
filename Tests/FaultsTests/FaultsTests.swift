//! FaultsTests: every rule kind on the links it should and should not touch, combinations,
//! TTL expiry, probabilities with a fixed seed, atomic updates, the JSON round trip, flags, and
//! the inputs that must be refused with a clear message.

import Base
import Faults
import Testing
import Wire

private let hosts = ["client", "etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]

private func table(_ rules: FaultRule..., now: Nanoseconds = 0) throws -> FaultTable {
    var table = FaultTable(hosts: hosts)
    _ = try table.add(rules, now: now)
    return table
}

private func blocking(_ table: FaultTable, _ from: String, _ to: String, now: Nanoseconds = 0) -> Blocking {
    table.policy(from: from, to: to, now: now).blocking
}

/// Every ordered pair of distinct hosts that the table blocks.
private func blockedLinks(_ table: FaultTable) -> Set<Link> {
    var links: Set<Link> = []
    for a in hosts { for b in hosts where a != b && blocking(table, a, b) != .open { links.insert(Link(from: a, to: b)) } }
    return links
}

@Suite struct RuleKindTests {
    @Test func partitionBlocksBetweenGroupsBothWaysAndUnnamedHostsFormAGroup() throws {
        let t = try table(FaultRule(.partition(groups: [["etcd-1", "etcd-2"], ["etcd-3"]], mode: .blackhole)))
        #expect(blocking(t, "etcd-1", "etcd-2") == .open)
        #expect(blocking(t, "etcd-1", "etcd-3") == .blackhole)
        #expect(blocking(t, "etcd-3", "etcd-1") == .blackhole)
        // etcd-4, etcd-5 and client are named nowhere: one more group, open among themselves.
        #expect(blocking(t, "etcd-4", "etcd-5") == .open)
        #expect(blocking(t, "client", "etcd-4") == .open)
        #expect(blocking(t, "etcd-4", "etcd-3") == .blackhole)
        #expect(blocking(t, "etcd-1", "client") == .blackhole)
    }

    @Test func isolateCutsTheHostFromEveryoneBothWays() throws {
        let t = try table(FaultRule(.isolate(host: "etcd-2", mode: .reject, includeClient: true)))
        for other in hosts where other != "etcd-2" {
            #expect(blocking(t, other, "etcd-2") == .reject)
            #expect(blocking(t, "etcd-2", other) == .reject)
        }
        #expect(blocking(t, "etcd-1", "etcd-3") == .open)
        #expect(blockedLinks(t).count == 2 * (hosts.count - 1))
    }

    @Test func isolateSparesTheClientUnlessAsked() throws {
        let t = try table(FaultRule(.isolate(host: "etcd-2", mode: .blackhole)))
        #expect(blocking(t, "client", "etcd-2") == .open)
        #expect(blocking(t, "etcd-2", "client") == .open)
        #expect(blocking(t, "etcd-1", "etcd-2") == .blackhole)
        #expect(blockedLinks(t).count == 2 * (hosts.count - 2))
        let parsed = try FaultRule.parse(json: try JSON.parse(#"{"kind":"isolate","host":"etcd-2","include_client":true}"#))
        #expect(parsed == FaultRule(.isolate(host: "etcd-2", mode: .blackhole, includeClient: true)))
        #expect(try FaultRule.parse(json: parsed.json) == parsed)
        #expect(throws: FaultError.self) { try FaultRule.parse(json: try JSON.parse(#"{"kind":"isolate","host":"etcd-2","include_client":3}"#)) }
    }

    @Test func cutIsOneWayAndWildcardsCover() throws {
        let t = try table(FaultRule(.cut(from: "etcd-1", to: "etcd-2", mode: .blackhole)))
        #expect(blocking(t, "etcd-1", "etcd-2") == .blackhole)
        #expect(blocking(t, "etcd-2", "etcd-1") == .open)
        #expect(blockedLinks(t) == [Link(from: "etcd-1", to: "etcd-2")])
        let inbound = try table(FaultRule(.cut(from: "*", to: "etcd-3", mode: .reject)))
        #expect(blockedLinks(inbound) == Set(hosts.filter { $0 != "etcd-3" }.map { Link(from: $0, to: "etcd-3") }))
    }

    @Test func bridgeCutsBetweenTheGroupsAndSparesTheBridge() throws {
        let rule = try FaultRule.bridge(["etcd-1", "etcd-2"], ["etcd-4", "etcd-5"], via: "etcd-3")
        guard case .cuts(let links, .blackhole) = rule.kind else { Issue.record("bridge is not cuts: \(rule)"); return }
        #expect(links.count == 8)
        let t = try table(rule)
        #expect(blocking(t, "etcd-1", "etcd-4") == .blackhole && blocking(t, "etcd-5", "etcd-2") == .blackhole)
        for side in ["etcd-1", "etcd-2", "etcd-4", "etcd-5"] {
            #expect(blocking(t, side, "etcd-3") == .open && blocking(t, "etcd-3", side) == .open)
        }
        #expect(blocking(t, "etcd-1", "etcd-2") == .open)
        #expect(throws: FaultError.self) { try FaultRule.bridge(["etcd-1"], ["etcd-1"], via: "etcd-3") }
        #expect(throws: FaultError.self) { try FaultRule.bridge(["etcd-1"], ["etcd-2"], via: "etcd-1") }
    }

    @Test func majoritiesRingGivesEveryHostADifferentMajority() throws {
        let ring = ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]
        for count in [3, 5] {
            let members = Array(ring.prefix(count))
            let t = try table(try FaultRule.majoritiesRing(members))
            var majorities: Set<[String]> = []
            for host in members {
                // The hosts this one hears from (itself included) are a majority...
                let heard = members.filter { $0 == host || blocking(t, $0, host) == .open }
                #expect(heard.count == count / 2 + 1, "\(host) hears \(heard) of \(members)")
                majorities.insert(heard.sorted())
            }
            // ...and no two hosts hear the same one.
            #expect(majorities.count == count)
        }
        // Five hosts: each sees exactly its two ring neighbours, symmetrically.
        let five = try table(try FaultRule.majoritiesRing(ring))
        #expect(blocking(five, "etcd-1", "etcd-2") == .open && blocking(five, "etcd-1", "etcd-5") == .open)
        #expect(blocking(five, "etcd-1", "etcd-3") == .blackhole && blocking(five, "etcd-3", "etcd-1") == .blackhole)
        #expect(throws: FaultError.self) { try FaultRule.majoritiesRing(["a", "b"]) }
    }

    @Test func latencyIsPerDirectedLinkAndJitterStaysInBounds() throws {
        let t = try table(FaultRule(.latency(from: "client", to: "etcd-1", delay: 200 * Time.millisecond, jitter: 50 * Time.millisecond)))
        let policy = t.policy(from: "client", to: "etcd-1", now: 0)
        #expect(policy.delay == 200 * Time.millisecond && policy.jitter == 50 * Time.millisecond && policy.blocking == .open)
        #expect(t.policy(from: "etcd-1", to: "client", now: 0).isClear)
        var random = SeededRandom(seed: 1)
        let samples = (0..<1000).map { _ in policy.chunkDelay(random: &random) }
        #expect(samples.allSatisfy { $0 >= 150 * Time.millisecond && $0 <= 250 * Time.millisecond })
        #expect(Set(samples).count > 100, "jitter varies the delay")
    }

    @Test func bandwidthCapsTheLink() throws {
        let t = try table(FaultRule(.bandwidth(from: "etcd-1", to: "*", bytesPerSecond: 1_000_000)))
        #expect(t.policy(from: "etcd-1", to: "etcd-2", now: 0).bytesPerSecond == 1_000_000)
        #expect(t.policy(from: "etcd-2", to: "etcd-1", now: 0).bytesPerSecond == nil)
    }

    @Test func resetIsAOneShotActionNotARule() throws {
        var t = FaultTable(hosts: hosts)
        let change = try t.add([FaultRule(.reset(from: "client", to: "etcd-1"), probability: 0.5)], now: 0)
        #expect(change.ids == [nil])
        #expect(change.resets == [ResetAction(link: Link(from: "client", to: "etcd-1"), probability: 0.5)])
        #expect(t.rules.isEmpty && t.version == 0)
        #expect(change.resets[0].matches(from: "client", to: "etcd-1") && !change.resets[0].matches(from: "etcd-1", to: "client"))
    }
}

@Suite struct CombinationTests {
    @Test func rejectBeatsBlackholeBeatsOpen() throws {
        let t = try table(
            FaultRule(.partition(groups: [["etcd-1"]], mode: .blackhole)),
            FaultRule(.cut(from: "etcd-1", to: "etcd-2", mode: .reject)))
        #expect(blocking(t, "etcd-1", "etcd-2") == .reject)
        #expect(blocking(t, "etcd-2", "etcd-1") == .blackhole)
        #expect(blocking(t, "etcd-2", "etcd-3") == .open)
    }

    @Test func delaysAddAndTheLowestBandwidthWins() throws {
        let t = try table(
            FaultRule(.latency(from: "etcd-1", to: "etcd-2", delay: 100 * Time.millisecond, jitter: 0)),
            FaultRule(.latency(from: "*", to: "etcd-2", delay: 50 * Time.millisecond, jitter: 10 * Time.millisecond)),
            FaultRule(.bandwidth(from: "etcd-1", to: "etcd-2", bytesPerSecond: 5000)),
            FaultRule(.bandwidth(from: "*", to: "*", bytesPerSecond: 9000)))
        let policy = t.policy(from: "etcd-1", to: "etcd-2", now: 0)
        #expect(policy.delay == 150 * Time.millisecond && policy.jitter == 10 * Time.millisecond)
        #expect(policy.bytesPerSecond == 5000)
        #expect(t.policy(from: "etcd-3", to: "etcd-2", now: 0).delay == 50 * Time.millisecond)
        #expect(t.policy(from: "etcd-3", to: "etcd-1", now: 0).bytesPerSecond == 9000)
    }
}

@Suite struct TableTests {
    @Test func idsVersionsRemoveAndHeal() throws {
        var t = FaultTable(hosts: hosts)
        #expect(t.version == 0)
        let first = try t.add([FaultRule(.isolate(host: "etcd-1", mode: .blackhole))], now: 0)
        let second = try t.add([FaultRule(.cut(from: "etcd-2", to: "etcd-3", mode: .reject)),
            FaultRule(.latency(from: "*", to: "*", delay: Time.millisecond, jitter: 0))], now: 0)
        #expect(first.ids == ["r1"] && second.ids == ["r2", "r3"])
        #expect(t.version == 2, "one bump per atomic update")
        #expect(t.remove(id: "r1") && t.version == 3)
        #expect(!t.remove(id: "r1") && t.version == 3, "removing nothing changes nothing")
        #expect(blocking(t, "etcd-1", "etcd-2") == .open && blocking(t, "etcd-2", "etcd-3") == .reject)
        #expect(t.removeAll() == 2 && t.rules.isEmpty && t.version == 4)
        #expect(t.policy(from: "etcd-2", to: "etcd-3", now: 0).isClear)
        // Ids are never reused, even after a heal.
        #expect(try t.add([FaultRule(.isolate(host: "etcd-1", mode: .blackhole))], now: 0).ids == ["r4"])
    }

    @Test func ttlExpiresRules() throws {
        var t = FaultTable(hosts: hosts)
        _ = try t.add([FaultRule(.isolate(host: "etcd-1", mode: .blackhole), ttl: 2 * Time.second),
            FaultRule(.cut(from: "etcd-2", to: "etcd-3", mode: .blackhole), ttl: 5 * Time.second),
            FaultRule(.cut(from: "etcd-4", to: "etcd-5", mode: .blackhole))], now: 10 * Time.second)
        #expect(t.nextExpiry == 12 * Time.second)
        #expect(blocking(t, "etcd-1", "etcd-2", now: 11 * Time.second) == .blackhole)
        // Past its expiry a rule no longer counts, even before expire() removes it.
        #expect(blocking(t, "etcd-1", "etcd-2", now: 12 * Time.second) == .open)
        let version = t.version
        #expect(t.expire(now: 11 * Time.second).isEmpty && t.version == version)
        #expect(t.expire(now: 12 * Time.second) == ["r1"] && t.version == version + 1)
        #expect(t.nextExpiry == 15 * Time.second)
        #expect(t.expire(now: 100 * Time.second) == ["r2"])
        #expect(t.rules.map(\.id) == ["r3"] && t.nextExpiry == nil)
    }

    @Test func aBadRuleRefusesTheWholeUpdate() throws {
        var t = FaultTable(hosts: hosts)
        _ = try t.add([FaultRule(.isolate(host: "etcd-1", mode: .blackhole))], now: 0)
        let before = (t.rules, t.version)
        #expect(throws: FaultError("rule 2: unknown host 'etcd-9' (known: client, etcd-1, etcd-2, etcd-3, etcd-4, etcd-5)")) {
            try t.add([FaultRule(.cut(from: "etcd-2", to: "etcd-3", mode: .blackhole)),
                FaultRule(.cut(from: "etcd-2", to: "etcd-9", mode: .blackhole))], now: 0)
        }
        #expect(t.rules == before.0 && t.version == before.1)
        #expect(blocking(t, "etcd-2", "etcd-3") == .open)
    }

    @Test func limitsHold() throws {
        var limits = FaultLimits()
        limits.rulesMax = 2
        var t = FaultTable(hosts: nil, limits: limits)
        _ = try t.add([FaultRule(.cut(from: "a", to: "b", mode: .blackhole))], now: 0)
        #expect(throws: FaultError.self) {
            try t.add([FaultRule(.cut(from: "a", to: "c", mode: .blackhole)), FaultRule(.cut(from: "a", to: "d", mode: .blackhole))], now: 0)
        }
        #expect(t.rules.count == 1)
        // A table with no host list accepts any name.
        _ = try t.add([FaultRule(.cut(from: "x", to: "y", mode: .blackhole))], now: 0)
        #expect(throws: FaultError.self) { try t.add([], now: 0) }
    }
}

@Suite struct ProbabilityTests {
    @Test func blockingIsDrawnOncePerConnectionAndSticks() throws {
        let t = try table(FaultRule(.partition(groups: [["etcd-1"]], mode: .blackhole), probability: 0.5))
        var blockedConnections = 0
        for connection in 0..<1000 {
            var draws = RuleDraws(random: SeededRandom(seed: 7).derived(UInt64(connection)))
            let first = t.policy(from: "etcd-1", to: "etcd-2", now: 0, draws: &draws).blocking
            // The same connection asks again (both directions, later): the same answer.
            for _ in 0..<5 {
                #expect(t.policy(from: "etcd-1", to: "etcd-2", now: 0, draws: &draws).blocking == first)
                #expect(t.policy(from: "etcd-2", to: "etcd-1", now: 0, draws: &draws).blocking == first)
            }
            if first == .blackhole { blockedConnections += 1 }
        }
        #expect(blockedConnections > 400 && blockedConnections < 600, "\(blockedConnections) of 1000")
        // Without draws the probabilistic rule counts as applying.
        #expect(blocking(t, "etcd-1", "etcd-2") == .blackhole)
    }

    @Test func sameSeedSameDecisions() throws {
        let t = try table(FaultRule(.cut(from: "*", to: "*", mode: .reject), probability: 0.3),
            FaultRule(.latency(from: "*", to: "*", delay: 10 * Time.millisecond, jitter: 0), probability: 0.25))
        func run() -> ([Blocking], [Nanoseconds]) {
            var draws = RuleDraws(random: SeededRandom(seed: 42))
            var blocks: [Blocking] = []
            for index in 0..<50 {
                var fresh = RuleDraws(random: draws.random.derived(UInt64(index)))
                blocks.append(t.policy(from: "etcd-1", to: "etcd-2", now: 0, draws: &fresh).blocking)
            }
            let policy = t.policy(from: "etcd-1", to: "etcd-2", now: 0, draws: &draws)
            var random = SeededRandom(seed: 9)
            return (blocks, (0..<200).map { _ in policy.chunkDelay(random: &random) })
        }
        let (blocks, delays) = run()
        #expect(run().0 == blocks && run().1 == delays)
        let delayed = delays.filter { $0 > 0 }.count
        #expect(delayed > 25 && delayed < 80, "about a quarter of 200 chunks are delayed: \(delayed)")
        #expect(delays.allSatisfy { $0 == 0 || $0 == 10 * Time.millisecond })
    }
}

@Suite struct CodecTests {
    static let samples: [FaultRule] = [
        FaultRule(.partition(groups: [["etcd-1"], ["etcd-2", "etcd-3"]], mode: .reject), ttl: 10 * Time.second),
        FaultRule(.isolate(host: "etcd-1", mode: .blackhole), probability: 0.25),
        FaultRule(.cut(from: "etcd-1", to: "*", mode: .blackhole)),
        FaultRule(.cuts(links: [Link(from: "etcd-1", to: "etcd-2")], mode: .reject)),
        FaultRule(.latency(from: "client", to: "etcd-1", delay: 1500 * Time.microsecond, jitter: 3), ttl: 90 * Time.second),
        FaultRule(.bandwidth(from: "etcd-1", to: "etcd-2", bytesPerSecond: 123_456)),
        FaultRule(.reset(from: "client", to: "etcd-2")),
    ]

    @Test func rulesRoundTripThroughJSON() throws {
        for rule in Self.samples {
            let text = JSON.serialize(rule.json)
            #expect(try FaultRule.parseList(body: Array(text.utf8)) == [rule], "\(text)")
        }
        let list = JSON.serialize(.array(Self.samples.map(\.json)))
        #expect(try FaultRule.parseList(body: Array(list.utf8)) == Self.samples)
        let wrapped = JSON.serialize(.object(["rules": .array(Self.samples.map(\.json))]))
        #expect(try FaultRule.parseList(body: Array(wrapped.utf8)) == Self.samples)
    }

    @Test func activeRulesPostBackAsTheSameRules() throws {
        var t = FaultTable(hosts: hosts)
        let stored = Self.samples.filter { if case .reset = $0.kind { false } else { true } }
        _ = try t.add(stored, now: 0)
        let listed = JSON.serialize(.array(t.rules.map { $0.json(now: 4 * Time.second) }))
        #expect(listed.contains(#"{"id":"r1","kind":"partition""#) && listed.contains(#""expires_in_ms":6000"#))
        #expect(try FaultRule.parseList(body: Array(listed.utf8)) == stored)
    }

    @Test func compoundKindsReadAsTheirCuts() throws {
        let bridge = try FaultRule.parseList(body: Array(#"{"kind":"bridge","groups":[["etcd-1"],["etcd-2"]],"bridge":"etcd-3","mode":"reject"}"#.utf8))
        #expect(bridge == [try FaultRule.bridge(["etcd-1"], ["etcd-2"], via: "etcd-3", mode: .reject)])
        let ring = try FaultRule.parseList(body: Array(#"{"kind":"majorities-ring","hosts":["a","b","c","d","e"],"ttl":"1m"}"#.utf8))
        #expect(ring == [try FaultRule.majoritiesRing(["a", "b", "c", "d", "e"], ttl: 60 * Time.second)])
    }

    @Test func latencyReadsNanosecondIntegersToo() throws {
        let rules = try FaultRule.parseList(body: Array(#"[{"kind":"latency","from":"a","to":"b","delay_ns":200000000,"jitter_ns":5}]"#.utf8))
        #expect(rules == [FaultRule(.latency(from: "a", to: "b", delay: 200 * Time.millisecond, jitter: 5))])
        let timed = try FaultRule.parseList(body: Array(#"{"kind":"cut","from":"a","to":"b","ttl_ns":30000000000,"expires_at_ns":5}"#.utf8))
        #expect(timed == [FaultRule(.cut(from: "a", to: "b", mode: .blackhole), ttl: 30 * Time.second)])
    }

    @Test func policyEncodes() throws {
        let t = try table(FaultRule(.latency(from: "*", to: "*", delay: 200 * Time.millisecond, jitter: 0)),
            FaultRule(.cut(from: "etcd-1", to: "etcd-2", mode: .blackhole)))
        #expect(JSON.serialize(t.policy(from: "etcd-1", to: "etcd-2", now: 0).json)
            == #"{"blocked":"blackhole","delay":"200ms","jitter":"0s","bytes_per_second":null}"#)
    }

    @Test func flagsReadTheSameRules() throws {
        #expect(try FaultRule.parse(arguments: ["latency", "--from", "client", "--to", "etcd-1", "--delay", "1500us", "--jitter", "3ns", "--ttl", "90s"])
            == Self.samples[4])
        #expect(try FaultRule.parse(arguments: ["partition", "--group", "etcd-1", "--group", "etcd-2,etcd-3", "--mode", "reject", "--ttl", "10s"])
            == Self.samples[0])
        #expect(try FaultRule.parse(arguments: ["bandwidth", "--from", "a", "--to", "b", "--bytes-per-second", "1MiB"])
            == FaultRule(.bandwidth(from: "a", to: "b", bytesPerSecond: 1 << 20)))
        #expect(try FaultRule.parse(arguments: ["cuts", "--links", "a:b,c:*"])
            == FaultRule(.cuts(links: [Link(from: "a", to: "b"), Link(from: "c", to: "*")], mode: .blackhole)))
        #expect(try FaultRule.parse(arguments: ["isolate", "--host", "a", "--probability", "0.25"])
            == FaultRule(.isolate(host: "a", mode: .blackhole), probability: 0.25))
    }

    @Test func badInputIsRefusedClearly() {
        func message(_ body: String) -> String? {
            do {
                _ = try FaultRule.parseList(body: Array(body.utf8))
                return nil
            } catch {
                return error.message
            }
        }
        func flagMessage(_ words: [String]) -> String? {
            do {
                _ = try FaultRule.parse(arguments: words)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(#"{"kind":"latency","from":"a","to":"b"}"#) == #"latency needs "delay" like 200ms"#)
        #expect(flagMessage(["latency", "--from", "a", "--to", "b"]) == "latency needs --delay like 200ms")
        #expect(flagMessage(["bandwidth", "--from", "a", "--to", "b"]) == "bandwidth needs --bytes-per-second like 1MB or 1000000")
        #expect(message(#"{"kind":"latency","from":"a","to":"b","delay":"fast"}"#) == #""delay" must be a duration like 200ms, got 'fast'"#)
        #expect(message(#"{"kind":"latency","from":"a","to":"b","delay":200}"#) == #""delay" must be a duration like 200ms, got 200"#)
        #expect(message(#"{"kind":"cut","from":"a","to":"b","dealy":"1s"}"#) == #"cut does not take "dealy""#)
        #expect(message(#"{"kind":"cut","from":"a","to":"b","mode":"drop"}"#) == #""mode" must be blackhole or reject, got 'drop'"#)
        #expect(message(#"{"kind":"cut","from":"a"}"#) == #"cut needs "to" like etcd-2"#)
        #expect(message(#"{"kind":"flood"}"#)?.hasPrefix("unknown rule kind 'flood'") == true)
        #expect(message(#"{"from":"a"}"#)?.hasPrefix(#"a rule needs "kind""#) == true)
        #expect(message(#"{"kind":"isolate","host":"a","probability":1.5}"#) == #""probability" must be in (0, 1], got 1.5"#)
        #expect(message(#"{"kind":"isolate","host":"a","ttl":"-1s"}"#) == #""ttl" must be a duration like 10s, got '-1s'"#)
        #expect(message(#"{"kind":"bandwidth","from":"a","to":"b","bytes_per_second":0}"#)?.hasPrefix(#""bytes_per_second" must be a positive byte count"#) == true)
        #expect(message(#"{"kind":"bridge","groups":[["a"]],"bridge":"c"}"#) == #"bridge needs exactly two "groups", got 1"#)
        #expect(message(#"{"kind":"partition","groups":[["a"],["a","b"]]}"#) == nil, "overlap is caught by validation, not parsing")
        #expect(message(#"[{"kind":"isolate","host":"a"},{"kind":"cut"}]"#) == #"rule 2: cut needs "from" like etcd-1"#)
        #expect(message("[]") == "no rules given")
        #expect(message("[1,") == "body is not JSON: 1:4: expected a value, found end of input")
        #expect(message("42") == "expected an array of rules, found integer")
        #expect(flagMessage(["--from", "a"])?.hasPrefix("name the fault first") == true)
        #expect(flagMessage(["cut", "--from"]) == "--from needs a value")
        var t = FaultTable(hosts: hosts)
        #expect(throws: FaultError("partition: a host is in two groups (use bridge for that)")) {
            try t.add([FaultRule(.partition(groups: [["etcd-1"], ["etcd-1", "etcd-2"]], mode: .blackhole))], now: 0)
        }
        #expect(throws: FaultError("unknown host 'etcd-7' (known: client, etcd-1, etcd-2, etcd-3, etcd-4, etcd-5)")) {
            try t.add([FaultRule(.isolate(host: "etcd-7", mode: .blackhole))], now: 0)
        }
    }

    @Test func textHelpers() {
        #expect(FaultText.duration(0) == "0s" && FaultText.duration(90 * Time.second) == "90s")
        #expect(FaultText.duration(2 * 3600 * Time.second) == "2h" && FaultText.duration(1001) == "1001ns")
        for value: Nanoseconds in [1, 999, 1000, 1_500_000, 2 * Time.second, 61 * Time.second, 3_600_000_000_001] {
            #expect(Time.parse(FaultText.duration(value)) == value)
        }
        #expect(FaultText.bytes("10MB/s") == 10_000_000 && FaultText.bytes("64KiB") == 65536 && FaultText.bytes("7") == 7)
        #expect(FaultText.bytes("lots") == nil && FaultText.bytes("-1") == nil)
    }
}
