//! The simulator's service: the register store (`KVStateMachine`) behind a `Replica`, with the
//! request/outcome vocabulary its workload and checkers speak.

import KV
import Raft

extension KVStateMachine: ReplicatedStateMachine {
    public mutating func apply(_ data: [UInt8], at index: Raft.Index) -> KVResult {
        guard let command = KVCommand(decoding: data) else {
            preconditionFailure("entry \(index) holds an undecodable command")
        }
        return apply(command)
    }
}

public typealias KVReplica<Environment: ReplicaEnvironment> = Replica<KVStateMachine, Environment>

public enum ClientRequest: Equatable, Sendable {
    case read(key: String)
    case command(KVCommand)
}

public enum ClientOutcome: Equatable, Sendable {
    /// Took effect; a read carries the value it saw.
    case ok(value: String?)
    /// A CAS whose expected value did not match (definitely no effect).
    case casMismatch
    /// This node cannot serve the request (definitely no effect); `leader` is a hint.
    case notLeader(leader: Raft.NodeID)
    /// The proposal was overwritten by another leader's entry (definitely no effect).
    case dropped
}

extension Replica where Machine == KVStateMachine {
    public func submit(_ request: ClientRequest, completion: @escaping (ClientOutcome) -> Void) {
        switch request {
        case .read(let key):
            read { [unowned self] outcome in
                switch outcome {
                case .ready: completion(.ok(value: stateMachine.read(key)))
                case .notLeader(let leader): completion(.notLeader(leader: leader))
                }
            }
        case .command(let command):
            propose(command.encoded()) { outcome in
                switch outcome {
                case .applied(.ok): completion(.ok(value: nil))
                case .applied(.casMismatch): completion(.casMismatch)
                case .notLeader(let leader): completion(.notLeader(leader: leader))
                case .dropped: completion(.dropped)
                }
            }
        }
    }
}
