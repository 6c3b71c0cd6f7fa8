//! JSONReaderTests: JSON reads into the same positioned tree as YAML (strings quoted, numbers and
//! literals plain), and malformed JSON is refused at the right line and column.

import Testing
import Topology

@Suite struct JSONReaderTests {
    func jsonShape(_ text: String) -> String? {
        (try? JSONReader.parse(text, file: "t.json")).map(shape)
    }

    @Test func valuesBecomeTheSameNodesAsYAML() throws {
        #expect(jsonShape(#"{"a": [1, -2.5e3, true, false, null, "s"], "b": {}, "c": []}"#)
            == #"{a: [1, -2.5e3, true, false, ~, "s"], b: {}, c: []}"#)
        // The same data in YAML's flow style gives the same tree.
        let yaml = try YAMLSubset.parse(#"{"a": [1, "s"], "b": {c: true}}"#, file: "t.yaml")
        let json = try JSONReader.parse(#"{"a": [1, "s"], "b": {"c": true}}"#, file: "t.json")
        #expect(shape(yaml) == shape(json))
    }

    @Test func stringEscapes() {
        #expect(jsonShape(#"["q\"b\\s\/n\nt\tu\u00e9p\ud83d\ude00"]"#) == "[\"q\"b\\s/n\nt\tuép😀\"]")
    }

    @Test func positionsCountLinesAndColumns() throws {
        let root = try JSONReader.parse("{\n  \"hosts\": [\n    {\"name\": \"a\"}\n  ]\n}", file: "t.json")
        #expect(root.position == at(1, 1))
        guard case .mapping(let entries) = root.content, case .sequence(let hosts)? = root["hosts"]?.content else {
            Issue.record("unexpected shape")
            return
        }
        #expect(entries[0].keyPosition == at(2, 3))
        #expect(root["hosts"]?.position == at(2, 12))
        #expect(hosts[0].position == at(3, 5))
        #expect(hosts[0]["name"]?.position == at(3, 14))
    }

    @Test func malformedJSONIsRefusedWithPosition() {
        expectFailure(jsonError("{\"a\": 1,}"), at: 1, 9, "expected a string key")
        expectFailure(jsonError("{\"a\": 1 \"b\": 2}"), at: 1, 9, "expected ',' or '}'")
        expectFailure(jsonError("[1,\n 2\n 3]"), at: 3, 2, "expected ',' or ']'")
        expectFailure(jsonError("{\"a\": 1,\n \"a\": 2}"), at: 2, 2, "duplicate key \"a\" (first at line 1, column 2)")
        expectFailure(jsonError("{\"a\": \"open}"), at: 1, 7, "this string is not closed")
        expectFailure(jsonError("{\"a\": \"x\ny\"}"), at: 1, 7, "not closed on its line")
        expectFailure(jsonError("[01]"), at: 1, 2, "leading zeros")
        expectFailure(jsonError("[1.]"), at: 1, 2, "malformed number")
        expectFailure(jsonError("[\"\\q\"]"), at: 1, 3, "unknown escape '\\q'")
        expectFailure(jsonError("[\"\\ud800x\"]"), at: 1, 3, "must be followed by a low one")
        expectFailure(jsonError("{} {}"), at: 1, 4, "unexpected text after the JSON value")
        expectFailure(jsonError("  \n "), at: 2, 2, "the document is empty")
        expectFailure(jsonError("{\"a\": yes}"), at: 1, 7, "unexpected 'y'")
        expectFailure(jsonError("{\"a\" 1}"), at: 1, 6, "expected ':'")
        expectFailure(jsonError("[\"tab\there\"]"), at: 1, 6, "control character")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: JSONReader.depthMax + 1) + String(repeating: "]", count: JSONReader.depthMax + 1)
        expectFailure(jsonError(deep), at: 1, JSONReader.depthMax + 1, "nests deeper than")
        let fine = String(repeating: "[", count: JSONReader.depthMax) + String(repeating: "]", count: JSONReader.depthMax)
        #expect(jsonError(fine) == nil)
    }

    @Test func documentChoosesTheReaderByExtension() throws {
        // `{"a": 1}` is both YAML and JSON; a YAML-only document is refused in a .json file.
        #expect(shape(try Document.parse("a: 1", file: "x.yaml")) == "{a: 1}")
        expectFailure(failure { () throws(DocumentError) in try Document.parse("a: 1", file: "x.JSON") }, at: 1, 1, "unexpected 'a'")
    }
}
