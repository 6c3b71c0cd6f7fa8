//! NemesisPlannerTests: firings become concrete actions on the hosts the view says, at their
//! times; undos come at the scheduled end and before a new firing at the same instant; firings
//! wait for a leader and are skipped when their window closes; choices are fixed by the seed;
//! and the rollback undoes what is left.

import Base
import Scenario
import Testing
import Topology

func planner(_ nemesis: String, topology: Topology = Repository.etcd3, seed: UInt64 = 1, extra: String = "")
    throws -> NemesisPlanner
{
    var text = scenarioText("nemesis:\n" + nemesis + extra)
    if topology.name == "etcd-5" { text = text.replacingOccurrences(of: "etcd-3.yaml", with: "etcd-5.yaml") }
    return NemesisPlanner(scenario: try loadScenario(text, topology: topology), seed: seed)
}

let three = ["etcd-1", "etcd-2", "etcd-3"]
let five = ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]

@Suite struct NemesisPlannerTests {
    @Test func theLeaderIsIsolatedAndHealed() throws {
        var nemesis = try planner("  - {at: 5s, fault: isolate, target: leader, for: 10s}")
        let view = ClusterView(members: three, leader: "etcd-2")
        #expect(nemesis.due(at: 0, view: view) == NemesisTick())
        #expect(nemesis.nextDueTime == 5 * second)
        let injected = nemesis.due(at: 5 * second, view: view)
        #expect(injected.actions == [PlannedAction(time: 5 * second, tag: "f1.1", purpose: .inject,
            action: .isolate(host: "etcd-2", mode: .blackhole, includeClient: false))])
        #expect(nemesis.active == [ActiveFault(tag: "f1.1", kind: .isolate, hosts: ["etcd-2"], since: 5 * second, until: 15 * second)])
        #expect(nemesis.pendingUndos == [PlannedAction(time: 15 * second, tag: "f1.1", purpose: .undo, action: .heal(tag: "f1.1"))])
        #expect(nemesis.due(at: 14 * second, view: ClusterView(members: three, leader: "etcd-1")).actions.isEmpty)
        let healed = nemesis.due(at: 15 * second, view: view)
        #expect(healed.actions.map(\.description) == ["15s f1.1 undo heal f1.1"])
        #expect(nemesis.active.isEmpty && nemesis.isDone && nemesis.nextDueTime == nil)
    }

    @Test func aFiringWaitsForALeaderAndKeepsItsScheduledEnd() throws {
        var nemesis = try planner("  - {at: 5s, fault: pause, target: leader, for: 10s}")
        #expect(nemesis.due(at: 5 * second, view: ClusterView(members: three)) == NemesisTick())
        #expect(nemesis.nextDueTime == 5 * second)
        let late = nemesis.due(at: 6 * second, view: ClusterView(members: three, leader: "etcd-3"))
        #expect(late.actions.map(\.action) == [.pause(host: "etcd-3")])
        #expect(nemesis.pendingUndos.map(\.time) == [15 * second])
        #expect(nemesis.due(at: 15 * second, view: ClusterView(members: three)).actions.map(\.action) == [.resume(host: "etcd-3")])
    }

    @Test func aFiringWithNoLeaderBeforeItsWindowClosesIsSkipped() throws {
        var nemesis = try planner("  - {at: 5s, fault: kill, target: followers, for: 2s}")
        let tick = nemesis.due(at: 7 * second, view: ClusterView(members: three))
        #expect(tick.actions.isEmpty)
        #expect(tick.skipped.count == 1)
        #expect(tick.skipped.first?.tag == "f1.1")
        #expect(tick.skipped.first?.reason.contains("no leader was known") == true)
        #expect(nemesis.isDone)
    }

    @Test func periodicFiringsHealBeforeTheNextStarts() throws {
        var nemesis = try planner("  - {every: 5s, until: 20s, fault: kill, target: random(1), for: 5s, wipe: true}")
        var down: Set<String> = []
        var log: [String] = []
        for time in stride(from: Int64(0), through: 25, by: 1) {
            let tick = nemesis.due(at: time * second, view: ClusterView(members: three, leader: nil, down: down))
            for planned in tick.actions {
                log.append(planned.description)
                switch planned.action {
                case .kill(let host): down.insert(host)
                case .restart(let host, let wipe):
                    #expect(wipe)
                    down.remove(host)
                default: Issue.record("unexpected \(planned)")
                }
                #expect(down.count <= 1, "\(log)")
            }
        }
        #expect(log.count == 6 && nemesis.isDone)
        #expect(log[1].hasPrefix("10s f1.1 undo restart") && log[2].hasPrefix("10s f1.2 inject kill"), "\(log)")
    }

    @Test func randomChoosesAmongRunningMembers() throws {
        for seed in UInt64(1)...20 {
            var nemesis = try planner("  - {at: 1s, fault: pause, target: random(1), for: 1s}", seed: seed)
            let view = ClusterView(members: three, down: ["etcd-1"], paused: ["etcd-3"])
            #expect(nemesis.due(at: second, view: view).actions.map(\.action) == [.pause(host: "etcd-2")])
        }
    }

    @Test func theSameSeedAndViewsGiveTheSameActions() throws {
        func run(seed: UInt64) throws -> [String] {
            var nemesis = try planner(
                "  - {every: 2s, fault: mix, faults: [isolate, kill, pause, latency], target: random(1), delay: 10ms, for: 1s}",
                seed: seed)
            var log: [String] = []
            for time in stride(from: Int64(0), through: 30_000, by: 250) {
                let leader = three[Int(time / 3_000) % 3]
                log += nemesis.due(at: time * millisecond, view: ClusterView(members: three, leader: leader)).actions.map(\.description)
            }
            return log
        }
        let first = try run(seed: 42)
        #expect(first == (try run(seed: 42)))
        #expect(first != (try run(seed: 43)))
        #expect(first.count > 20)
        for kind in ["isolate", "kill", "pause", "latency"] { #expect(first.contains { $0.contains("inject \(kind)") }, "\(kind)") }
    }

    @Test func partitionGroupsAreChosenInOrderAndTheRestFormAGroup() throws {
        var withLeader = try planner("  - {at: 1s, fault: partition, groups: [minority-with-leader], for: 1s}")
        #expect(withLeader.due(at: second, view: ClusterView(members: three, leader: "etcd-2")).actions.map(\.action)
            == [.partition(groups: [["etcd-2"]], mode: .blackhole)])
        var onFive = try planner("  - {at: 1s, fault: partition, groups: [minority-with-leader, leader], for: 1s}", topology: Repository.etcd5)
        let action = onFive.due(at: second, view: ClusterView(members: five, leader: "etcd-4")).actions.map(\.action)
        guard case .partition(let groups, _) = action.first else { Issue.record("\(action)"); return }
        #expect(groups.count == 1 && groups[0].count == 2 && groups[0].contains("etcd-4"))
        var minority = try planner("  - {at: 1s, fault: partition, target: minority, mode: reject, for: 1s}", topology: Repository.etcd5)
        guard case .partition(let split, .reject) = minority.due(at: second, view: ClusterView(members: five, leader: "etcd-1")).actions.first?.action
        else { Issue.record("no partition"); return }
        #expect(split.count == 1 && split[0].count == 2 && !split[0].contains("etcd-1"))
    }

    @Test func aBridgeSplitsTheOthersIntoHalvesThatBothSeeIt() throws {
        var nemesis = try planner("  - {at: 1s, fault: bridge, target: leader, for: 1s}", topology: Repository.etcd5)
        let actions = nemesis.due(at: second, view: ClusterView(members: five, leader: "etcd-3")).actions.map(\.action)
        var cut: Set<String> = []
        for action in actions {
            guard case .cut(let from, let to, .blackhole) = action else { Issue.record("\(action)"); continue }
            #expect(from != "etcd-3" && to != "etcd-3")
            cut.insert("\(from)>\(to)")
        }
        #expect(actions.count == 8 && cut.count == 8)
        #expect(nemesis.pendingUndos.map(\.action) == [.heal(tag: "f1.1")])
    }

    @Test func inAMajoritiesRingEveryMemberHearsADifferentMajority() throws {
        var nemesis = try planner("  - {at: 1s, fault: majorities-ring, for: 1s}", topology: Repository.etcd5)
        let actions = nemesis.due(at: second, view: ClusterView(members: five, leader: "etcd-1")).actions.map(\.action)
        var heard: [String: Set<String>] = [:]
        for member in five { heard[member] = Set(five) }
        for action in actions {
            guard case .cut(let from, let to, _) = action else { Issue.record("\(action)"); continue }
            heard[to]?.remove(from)
        }
        #expect(actions.count == 10)
        #expect(heard.values.allSatisfy { $0.count == 3 })
        #expect(Set(heard.values).count == 5)
    }

    @Test func latencyOnTheLeadersLinksCoversBothDirections() throws {
        var nemesis = try planner("  - {at: 1s, fault: latency, target: leader, delay: 200ms, jitter: 50ms, for: 1s}")
        let actions = nemesis.due(at: second, view: ClusterView(members: three, leader: "etcd-1")).actions.map(\.action)
        #expect(actions == [
            .latency(from: "etcd-1", to: "etcd-2", delay: 200 * millisecond, jitter: 50 * millisecond),
            .latency(from: "etcd-2", to: "etcd-1", delay: 200 * millisecond, jitter: 50 * millisecond),
            .latency(from: "etcd-1", to: "etcd-3", delay: 200 * millisecond, jitter: 50 * millisecond),
            .latency(from: "etcd-3", to: "etcd-1", delay: 200 * millisecond, jitter: 50 * millisecond),
        ])
        var oneWay = try planner("  - {at: 1s, fault: cut, from: leader, to: followers, for: 1s}")
        #expect(oneWay.due(at: second, view: ClusterView(members: three, leader: "etcd-2")).actions.map(\.action) == [
            .cut(from: "etcd-2", to: "etcd-1", mode: .blackhole), .cut(from: "etcd-2", to: "etcd-3", mode: .blackhole),
        ])
    }

    @Test func swizzleCutsLinksOneByOneAndHealsThemInAnotherOrder() throws {
        var nemesis = try planner("  - {at: 3s, fault: swizzle, for: 6s}")
        var log: [PlannedAction] = []
        for time in stride(from: Int64(0), through: 10_000, by: 100) {
            log += nemesis.due(at: time * millisecond, view: ClusterView(members: three, leader: "etcd-1")).actions
        }
        let cuts = log.filter { $0.purpose == .inject }, heals = log.filter { $0.purpose == .undo }
        #expect(cuts.count == 6 && heals.count == 3)
        #expect(cuts.map(\.time) == [3, 3, 4, 4, 5, 5].map { $0 * second })
        #expect(heals.map(\.time) == [6, 7, 8].map { $0 * second })
        #expect(Set(heals.map(\.tag)) == ["f1.1.1", "f1.1.2", "f1.1.3"])
        #expect(heals.allSatisfy { $0.action == .heal(tag: $0.tag) })
        #expect(nemesis.isDone && nemesis.active.isEmpty)
    }

    @Test func skewIsSetAndPutBack() throws {
        var nemesis = try planner("  - {at: 1s, fault: skew, target: etcd-2, offset: +30s, rate: 2, for: 2s}")
        let view = ClusterView(members: three)
        #expect(nemesis.due(at: second, view: view).actions.map(\.action) == [.skew(host: "etcd-2", offset: 30 * second, rate: 2)])
        #expect(nemesis.due(at: 3 * second, view: view).actions.map(\.action) == [.skew(host: "etcd-2", offset: 0, rate: 1)])
    }

    @Test func theRollbackUndoesWhatIsLeftThenRunsTheScenariosRollbacks() throws {
        var nemesis = try planner(
            "  - {at: 1s, fault: kill, target: etcd-1, for: 5s}\n  - {at: 1s, fault: skew, target: etcd-3, offset: -1s, for: 5s}")
        _ = nemesis.due(at: second, view: ClusterView(members: three))
        let view = ClusterView(members: three, down: ["etcd-1"], paused: ["etcd-2"])
        let rollback = nemesis.rollback(at: 2 * second, view: view)
        #expect(rollback.map(\.action) == [
            .restart(host: "etcd-1", wipe: false), .skew(host: "etcd-3", offset: 0, rate: 1), .healAll, .resume(host: "etcd-2"),
        ])
        #expect(rollback.allSatisfy { $0.purpose == .rollback && $0.time == 2 * second && $0.tag == "rollback" })
        #expect(nemesis.finished && nemesis.pendingUndos.isEmpty && nemesis.active.isEmpty)
    }

    @Test func theScheduleListsEveryFiringInTimeOrder() throws {
        let nemesis = try planner("  - {every: 10s, fault: pause, target: leader, for: 1s}\n  - {at: 5s, fault: restart, target: etcd-1}")
        #expect(nemesis.schedule.map(\.tag) == ["f2.1", "f1.1", "f1.2"])
        #expect(nemesis.schedule.map(\.start) == [5, 10, 20].map { $0 * second })
    }
}
