//! Helpers shared by the Scenario tests: the shipped topologies and scenario files (found
//! relative to this file), a loader that hands back the error a bad scenario throws, and small
//! builders for the checks' inputs.

import Foundation
import Linearizability
import Scenario
import Testing
import Topology

enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOfFile: root.appendingPathComponent(relativePath).path, encoding: .utf8)
    }

    static func topology(_ relativePath: String) throws -> Topology {
        try Topology.load(text(relativePath), file: relativePath)
    }

    static let etcd3 = try! topology("Topologies/etcd-3.yaml")
    static let etcd5 = try! topology("Topologies/etcd-5.yaml")
    static let etcd1 = try! topology("Topologies/etcd-1.yaml")
}

/// A scenario on etcd-3 whose nemesis (and anything else) is `extra`, appended at the top level.
func scenarioText(_ extra: String = "", workload: String = "") -> String {
    """
    name: test
    topology: Topologies/etcd-3.yaml
    workload:
      clients: 2
      keys: 4
      duration: 30s\(workload)
    \(extra)
    """
}

func loadScenario(_ text: String, topology: Topology = Repository.etcd3) throws(DocumentError) -> Scenario {
    try Scenario.load(text, file: "test.yaml", topology: topology)
}

/// The error loading `text` throws, or nil if it loads.
func scenarioError(_ text: String, topology: Topology = Repository.etcd3) -> DocumentError? {
    do {
        _ = try loadScenario(text, topology: topology)
        return nil
    } catch {
        return error
    }
}

/// Expects `error` to exist, sit at line:column, and contain `fragment` in its message.
func expectFailure(_ error: DocumentError?, at line: Int, _ column: Int, _ fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation)
{
    guard let error else {
        Issue.record("expected an error at \(line):\(column) containing \"\(fragment)\", but it loaded", sourceLocation: sourceLocation)
        return
    }
    #expect(error.position == SourcePosition(line: line, column: column), "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
}

let second: Int64 = 1_000_000_000
let millisecond: Int64 = 1_000_000
