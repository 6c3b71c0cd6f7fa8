//! The simulated clients: reads, writes, CAS and deletes on a few keys, each client with one
//! operation outstanding, recorded as a history in the shared format. Client links behave like
//! TCP connections: delayed, possibly lost (the client times out: `info`), never duplicated.

import Base
import KV
import Linearizability
import Raft
import Services

final class Workload {
    unowned let simulation: Simulation
    private var clients: [Client] = []
    private var issuing = true
    private var nextOperationID = 0
    /// Values written per key, for CAS operations to expect.
    private var written: [String: [String]] = [:]
    private var probe: Client?
    /// Per key slot: which generation of key it is on, and how many operations it has had.
    private var slots: [(generation: Int, invocations: Int)] = []
    static let clientHostBase: UInt64 = 1_000_000

    struct Planned {
        var kind: OperationKind
        var key: String
        var value: HistoryValue
        var request: ClientRequest
    }

    final class Client {
        let slot: Int
        var process: Int
        var target: Raft.NodeID
        var counter = 0
        /// The operation in flight: its id, plan and invoke time.
        var outstanding: (id: Int, plan: Planned)?
        /// Scripted operations (the final probe), run before anything random.
        var script: [Planned] = []
        var scripted = false
        init(slot: Int, process: Int, target: Raft.NodeID) {
            self.slot = slot
            self.process = process
            self.target = target
        }
        var host: UInt64 { Workload.clientHostBase + UInt64(slot) }
    }

    init(simulation: Simulation) {
        self.simulation = simulation
        slots = Array(repeating: (0, 0), count: simulation.options.keys)
    }

    private func keyName(slot: Int) -> String { "k\(slot).\(slots[slot].generation)" }

    /// The key for a new operation on `slot`, moving the slot to a fresh key when it is full.
    private func takeKey(slot: Int) -> String {
        let key = keyName(slot: slot)
        slots[slot].invocations += 1
        if slots[slot].invocations >= simulation.options.operationsPerKeyMax {
            slots[slot] = (slots[slot].generation + 1, 0)
        }
        return key
    }

    var probeFinished: Bool { probe.map { $0.script.isEmpty && $0.outstanding == nil } ?? false }

    func start() {
        for slot in 0..<simulation.options.clients {
            let client = Client(slot: slot, process: slot, target: randomMember())
            clients.append(client)
            scheduleNext(client)
        }
    }

    func stopIssuing() { issuing = false }

    /// After healing: one client writes, then reads every key, retrying until each succeeds.
    func startFinalProbe() {
        let slot = simulation.options.clients
        let client = Client(slot: slot, process: nextFreeProcess(), target: randomMember())
        client.scripted = true
        let value = "final"
        let probeKey = keyName(slot: 0)
        client.script.append(Planned(kind: .write, key: probeKey, value: .string(value),
            request: .command(.write(key: probeKey, value: value))))
        for slot in 0..<simulation.options.keys {
            let key = keyName(slot: slot)
            client.script.append(Planned(kind: .read, key: key, value: .null, request: .read(key: key)))
        }
        probe = client
        clients.append(client)
        issue(client)
    }

    private func nextFreeProcess() -> Int {
        (clients.map { $0.process }.max() ?? 0) + 1
    }

    private func randomMember() -> Raft.NodeID {
        let live = simulation.nodes.filter { !$0.retired }
        return simulation.random.pick(live).id
    }

    private func scheduleNext(_ client: Client) {
        let think = simulation.random.int64(in: 0...simulation.options.thinkTimeMax)
        simulation.schedule(after: think) { [self] in
            if issuing || client.scripted { issue(client) }
        }
    }

    private func plan(for client: Client) -> Planned {
        if let scripted = client.script.first { return scripted }
        let key = takeKey(slot: simulation.random.int(in: 0...(simulation.options.keys - 1)))
        let roll = simulation.random.unit()
        client.counter += 1
        let fresh = "\(client.process).\(client.counter)"
        if roll < 0.4 {
            return Planned(kind: .read, key: key, value: .null, request: .read(key: key))
        } else if roll < 0.7 {
            return Planned(kind: .write, key: key, value: .string(fresh), request: .command(.write(key: key, value: fresh)))
        } else if roll < 0.9 {
            let candidates = written[key] ?? []
            let expected = candidates.isEmpty ? "none" : simulation.random.pick(Array(candidates.suffix(3)))
            return Planned(kind: .cas, key: key, value: .pair(expected, fresh),
                request: .command(.cas(key: key, expected: expected, new: fresh)))
        } else {
            return Planned(kind: .delete, key: key, value: .null, request: .command(.delete(key: key)))
        }
    }

    private func issue(_ client: Client) {
        precondition(client.outstanding == nil, "client \(client.slot) issuing with an operation outstanding")
        let planned = plan(for: client)
        nextOperationID += 1
        let id = nextOperationID
        client.outstanding = (id, planned)
        if case .command(.write(let key, let value)) = planned.request { written[key, default: []].append(value) }
        if case .command(.cas(let key, _, let value)) = planned.request { written[key, default: []].append(value) }
        simulation.record(HistoryEvent(process: client.process, type: .invoke, f: planned.kind, key: planned.key,
            value: planned.value, time: simulation.now, node: "n\(client.target)"))
        let target = client.target
        simulation.schedule(after: simulation.options.operationTimeout) { [self] in
            complete(client, id: id, outcome: nil)
        }
        guard let node = simulation.node(target), !node.retired else { return }
        let network = simulation.network
        for delay in network.deliveries(from: client.host, to: target, duplicable: false, random: &simulation.random) {
            node.run(after: delay) { [self] in
                node.replica!.submit(planned.request) { [self] outcome in
                    reply(to: client, id: id, from: target, outcome: outcome)
                }
            }
        }
    }

    private func reply(to client: Client, id: Int, from node: Raft.NodeID, outcome: ClientOutcome) {
        let delays = simulation.network.deliveries(from: node, to: client.host, duplicable: false, random: &simulation.random)
        guard let delay = delays.first else { return }
        simulation.schedule(after: delay) { [self] in complete(client, id: id, outcome: outcome) }
    }

    /// Records the completion of operation `id` (`outcome` nil: it timed out).
    private func complete(_ client: Client, id: Int, outcome: ClientOutcome?) {
        guard let (currentID, planned) = client.outstanding, currentID == id else { return }
        client.outstanding = nil
        var event = HistoryEvent(process: client.process, type: .ok, f: planned.kind, key: planned.key,
            value: planned.value, time: simulation.now, node: "n\(client.target)")
        switch outcome {
        case nil:
            event.type = .info
            event.error = "timeout"
            simulation.record(event)
            // Jepsen's rule: a process whose operation is in doubt never issues again.
            client.process = nextFreeProcess()
            client.target = randomMember()
        case .ok(let value)?:
            if planned.kind == .read { event.value = value.map { .string($0) } ?? .null }
            simulation.record(event)
            if client.scripted { client.script.removeFirst() }
        case .casMismatch?:
            event.type = .fail
            event.error = "compare failed"
            simulation.record(event)
            if client.scripted { client.script.removeFirst() }
        case .notLeader(let hint)?:
            event.type = .fail
            event.error = "not leader"
            simulation.record(event)
            let hinted = hint != Raft.none ? simulation.node(hint) : nil
            client.target = hinted.map { $0.retired ? randomMember() : $0.id } ?? randomMember()
        case .dropped?:
            event.type = .fail
            event.error = "proposal dropped by a new leader"
            simulation.record(event)
        }
        if issuing || client.scripted {
            if client.scripted && client.script.isEmpty { return }
            scheduleNext(client)
        }
    }
}
