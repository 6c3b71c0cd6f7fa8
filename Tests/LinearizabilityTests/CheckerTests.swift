//! CheckerTests: known-bad histories are rejected with small counterexamples; known-good pass.

import Linearizability
import Testing

@Suite struct KnownBadHistories {
    @Test func staleReadFileIsRejectedWithTwoOperations() throws {
        let report = checkLinearizability(try parseHistory(try historyFile("stale-read.jsonl")))
        #expect(!report.linearizable)
        #expect(report.failingKey == "x")
        #expect(report.operationCount == 5)
        #expect(report.keyCount == 2)
        #expect(report.counterexampleIsContextFree)
        #expect(report.counterexample.map(\.invokeTime) == [4000, 6000])
        #expect(report.description.contains("process 1 read \"1\" [6000, 7000] ok"))
    }

    @Test func lostWriteIsRejected() {
        var history = HistoryBuilder()
        history.add(0, .write, .string("1"), from: 0, to: 10)
        history.add(1, .write, .string("2"), from: 20, to: 30)
        history.add(2, .read, .string("2"), from: 35, to: 38)
        history.add(0, .read, .string("1"), from: 40, to: 50)
        let report = checkLinearizability(history.events)
        #expect(!report.linearizable)
        #expect(report.counterexample.count == 2)
        #expect(report.counterexample.last?.output == .string("1"))
    }

    @Test func readOfValueNeverWrittenIsRejected() {
        var history = HistoryBuilder()
        history.add(0, .read, .string("ghost"), from: 0, to: 10)
        let report = checkLinearizability(history.events)
        #expect(!report.linearizable)
        #expect(report.counterexample.count == 1)
        #expect(!report.counterexampleIsContextFree)

        var later = HistoryBuilder()
        later.add(0, .write, .string("1"), from: 0, to: 10)
        later.add(1, .read, .string("1"), from: 12, to: 14)
        later.add(1, .read, .string("ghost"), from: 20, to: 30)
        let laterReport = checkLinearizability(later.events)
        #expect(!laterReport.linearizable)
        #expect(laterReport.counterexample.count == 2)
        #expect(laterReport.counterexampleIsContextFree)
    }

    @Test func casAppliedTwiceIsRejected() {
        var sequential = HistoryBuilder()
        sequential.add(0, .write, .string("1"), from: 0, to: 10)
        sequential.add(1, .cas, .pair("1", "2"), from: 20, to: 30)
        sequential.add(2, .cas, .pair("1", "3"), from: 40, to: 50)
        #expect(!checkLinearizability(sequential.events).linearizable)

        var concurrent = HistoryBuilder()
        concurrent.add(0, .write, .string("1"), from: 0, to: 10)
        concurrent.add(1, .cas, .pair("1", "2"), from: 20, to: 50)
        concurrent.add(2, .cas, .pair("1", "3"), from: 25, to: 55)
        let report = checkLinearizability(concurrent.events)
        #expect(!report.linearizable)
        #expect(report.counterexample.count <= 3)
    }

    @Test func failedWriteSeenLaterIsRejected() {
        var history = HistoryBuilder()
        history.add(0, .write, .string("1"), from: 0, to: 10)
        history.add(1, .write, .string("2"), from: 20, to: 30, .fail)
        history.add(2, .read, .string("2"), from: 40, to: 50)
        let report = checkLinearizability(history.events)
        #expect(!report.linearizable)
        #expect(report.counterexample.allSatisfy { $0.outcome != .fail })
    }

    @Test func readOfDeletedValueIsRejected() {
        var history = HistoryBuilder()
        history.add(0, .write, .string("1"), from: 0, to: 10)
        history.add(0, .delete, from: 20, to: 30)
        history.add(1, .read, .string("1"), from: 40, to: 50)
        let report = checkLinearizability(history.events)
        #expect(!report.linearizable)
        #expect(report.counterexample.map(\.f) == [.delete, .read])
    }

    @Test(arguments: [7, 8, 9] as [UInt64])
    func staleReadInGeneratedHistoryIsRejected(seed: UInt64) throws {
        var events = generateHealthyHistory(operations: 2_000, keys: 4, clients: 8, seed: seed)
        let mutated = try #require(mutateOneReadToStale(&events))
        let report = checkLinearizability(events)
        #expect(!report.linearizable)
        #expect(report.counterexample.count <= 4, "\(report.description)")
        #expect(
            report.counterexample.contains { $0.process == mutated.process && $0.invokeTime == mutated.invokeTime },
            "\(mutated)\n\(report.description)")
    }
}

/// Changes one ok read to return a value that was overwritten before the read began. Values
/// are unique per write, so no later operation can bring it back.
func mutateOneReadToStale(_ events: inout [HistoryEvent]) -> Operation? {
    let all = operations(from: events)
    let completedWrites = all.filter { $0.f == .write && $0.outcome == .ok }
    for read in all where read.f == .read && read.outcome == .ok && read.invokeTime > 1_000_000_000 / 100 {
        let before = completedWrites.filter { $0.key == read.key && $0.completionTime < read.invokeTime }
        guard let stale = before.first(where: { old in
            before.contains { $0.invokeTime > old.completionTime && $0.input != old.input }
        }) else { continue }
        guard case .string(let value) = stale.input, read.output != stale.input else { continue }
        let position = events.firstIndex { $0.process == read.process && $0.type == .ok && $0.time == read.completionTime }!
        events[position].value = .string(value)
        return read
    }
    return nil
}

@Suite struct KnownGoodHistories {
    @Test func specExampleIsLinearizable() throws {
        let report = checkLinearizability(try parseHistory(try historyFile("example.jsonl")))
        #expect(report.linearizable)
        #expect(report.operationCount == 3)
        #expect(report.keyCount == 1)
        #expect(report.failingKey == nil)
        #expect(report.counterexample.isEmpty)
    }

    @Test func concurrentWritesAndReadsOrderFreely() {
        var history = HistoryBuilder()
        for process in 0..<8 {
            history.add(process, .write, .string("w\(process)"), from: Int64(process), to: 100 + Int64(process))
        }
        // Reads inside the overlap may see any of the writes, in an order consistent with time.
        history.add(8, .read, .string("w3"), from: 10, to: 20)
        history.add(9, .read, .string("w5"), from: 30, to: 40)
        history.add(10, .read, .string("w7"), from: 200, to: 210)
        #expect(checkLinearizability(history.events).linearizable)
    }

    @Test func infoOperationsMayOrMayNotTakeEffect() {
        var history = HistoryBuilder()
        history.add(0, .write, .string("1"), from: 0, to: 10)
        history.add(1, .write, .string("lost"), from: 20, to: 30, .info)  // never took effect
        history.add(2, .write, .string("late"), from: 25, to: 35, .info)  // took effect much later
        history.add(3, .cas, .pair("nope", "x"), from: 26, to: nil)  // never completed, never applied
        history.add(4, .read, .string("1"), from: 40, to: 50)
        history.add(4, .write, .string("2"), from: 60, to: 70)
        history.add(4, .read, .string("2"), from: 80, to: 90)
        history.add(4, .read, .string("late"), from: 1_000, to: 1_010)
        history.add(5, .cas, .pair("late", "3"), from: 1_020, to: 1_030, .info)  // took effect
        history.add(4, .read, .string("3"), from: 2_000, to: 2_010)
        let report = checkLinearizability(history.events)
        #expect(report.linearizable, "\(report.description)")
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func generatedHealthyHistoriesPass(seed: UInt64) {
        let events = generateHealthyHistory(operations: 2_000, keys: 4, clients: 8, seed: seed)
        let report = checkLinearizability(events)
        #expect(report.linearizable, "\(report.description)")
        #expect(report.operationCount == 2_000)
    }

    @Test(arguments: [8, 12] as [Int])
    func heavyConcurrencyOnOneKeyPasses(clients: Int) {
        let events = generateHealthyHistory(operations: 2_000, keys: 1, clients: clients, seed: 11)
        let report = checkLinearizability(events)
        #expect(report.linearizable, "\(report.description)")
        #expect(report.keyCount == 1)
    }

    @Test func generatorIsDeterministic() throws {
        let first = generateHealthyHistory(operations: 500, keys: 3, clients: 5, seed: 42)
        let second = generateHealthyHistory(operations: 500, keys: 3, clients: 5, seed: 42)
        #expect(first == second)
        #expect(try parseHistory(serializeHistory(first)) == first)
    }
}
