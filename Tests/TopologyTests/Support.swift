//! Helpers shared by the Topology tests: run a throwing parse and hand back its error, check an
//! error's position and wording, and print a node tree compactly so tests can compare shapes.

import Testing
import Topology

/// The error `body` throws, or nil if it succeeds.
func failure<Value>(_ body: () throws(DocumentError) -> Value) -> DocumentError? {
    do {
        _ = try body()
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
        Issue.record("expected an error at \(line):\(column) containing \"\(fragment)\", but it succeeded",
            sourceLocation: sourceLocation)
        return
    }
    #expect(error.position == SourcePosition(line: line, column: column), "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
}

func yamlError(_ text: String) -> DocumentError? { failure { () throws(DocumentError) in try YAMLSubset.parse(text, file: "test.yaml") } }
func jsonError(_ text: String) -> DocumentError? { failure { () throws(DocumentError) in try JSONReader.parse(text, file: "test.json") } }

/// A compact rendering of a tree: plain scalars bare (null as ~), quoted ones in their quotes,
/// [a, b] and {k: v}. Positions are left out; tests check those separately.
func shape(_ node: DocumentNode) -> String {
    switch node.content {
    case .scalar(let scalar):
        switch scalar.style {
        case .plain: return scalar.isNull ? "~" : scalar.text
        case .singleQuoted: return "'\(scalar.text)'"
        case .doubleQuoted: return "\"\(scalar.text)\""
        }
    case .sequence(let items): return "[" + items.map(shape).joined(separator: ", ") + "]"
    case .mapping(let entries): return "{" + entries.map { "\($0.key): \(shape($0.value))" }.joined(separator: ", ") + "}"
    }
}

func yamlShape(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    do {
        return shape(try YAMLSubset.parse(text, file: "test.yaml"))
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }
