//! A tiny deterministic harness for Raft unit tests: instances in memory, instant persistence,
//! and a message pool the test delivers (or drops) explicitly.

import Base
import Raft

final class Cluster {
    var nodes: [Raft.NodeID: Raft.Instance] = [:]
    var pool: [Raft.Message] = []
    /// Directed links that drop messages.
    var cut: Set<[Raft.NodeID]> = []
    var applied: [Raft.NodeID: [Raft.Entry]] = [:]
    var readStates: [Raft.NodeID: [Raft.ReadState]] = [:]
    /// Every Ready handed out, for checks on the persistence contract.
    var readies: [(Raft.NodeID, Raft.Ready)] = []

    init(voters: [Raft.NodeID], configure: (inout Raft.Config) -> Void = { _ in }) {
        let bootstrap = Raft.bootstrap(voters: voters)
        for id in voters {
            var config = Raft.Config(id: id, seed: id * 31)
            configure(&config)
            nodes[id] = Raft.Instance(config: config, hardState: bootstrap.hardState, snapshot: Raft.emptySnapshot,
                entries: bootstrap.entries)
        }
        settle()
    }

    func addEmptyNode(_ id: Raft.NodeID) {
        nodes[id] = Raft.Instance(config: Raft.Config(id: id, seed: id), hardState: Raft.HardState(),
            snapshot: Raft.emptySnapshot, entries: [])
    }

    subscript(_ id: Raft.NodeID) -> Raft.Instance { nodes[id]! }

    /// Processes every pending Ready, moving messages into the pool.
    func drainReadies() {
        var progress = true
        while progress {
            progress = false
            for id in nodes.keys.sorted() {
                let node = nodes[id]!
                guard node.hasReady else { continue }
                progress = true
                let ready = node.ready()
                readies.append((id, ready))
                pool.append(contentsOf: ready.messages)
                applied[id, default: []].append(contentsOf: ready.committedEntries)
                readStates[id, default: []].append(contentsOf: ready.readStates)
                node.advance(ready)
            }
        }
    }

    /// Delivers messages until none are left (dropping those on cut links).
    func settle(maxRounds: Int = 10_000) {
        var rounds = 0
        drainReadies()
        while !pool.isEmpty && rounds < maxRounds {
            rounds += 1
            let batch = pool
            pool = []
            for message in batch {
                guard let target = nodes[message.to], !cut.contains([message.from, message.to]) else { continue }
                target.step(message)
            }
            drainReadies()
        }
    }

    func tick(_ id: Raft.NodeID, times: Int = 1) {
        for _ in 0..<times { nodes[id]!.tick() }
        settle()
    }

    func tickAll(times: Int) {
        for _ in 0..<times {
            for id in nodes.keys.sorted() { nodes[id]!.tick() }
            settle()
        }
    }

    func isolate(_ id: Raft.NodeID) {
        for other in nodes.keys where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    func heal() { cut = [] }

    var leaders: [Raft.NodeID] { nodes.keys.sorted().filter { nodes[$0]!.role == .leader } }

    /// Elects `id` by letting it campaign now.
    func elect(_ id: Raft.NodeID) {
        nodes[id]!.campaignNow()
        settle()
    }

    func propose(_ id: Raft.NodeID, _ text: String) -> Result<(index: Raft.Index, term: Raft.Term), Raft.ProposalError> {
        let result = nodes[id]!.propose(Array(text.utf8))
        settle()
        return result
    }
}
