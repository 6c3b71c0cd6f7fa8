//! YAMLRefusalTests: every construct outside the subset is refused at the right line and column,
//! with a message that says what to write instead.

import Testing
import Topology

@Suite struct YAMLRefusalTests {
    @Test func anchorsAndAliases() {
        expectFailure(yamlError("a: 1\nb: &anchor 2"), at: 2, 4, "anchors ('&') are not supported")
        expectFailure(yamlError("a: 1\nb: *anchor"), at: 2, 4, "aliases ('*') are not supported")
        expectFailure(yamlError("- &x a"), at: 1, 3, "anchors")
        expectFailure(yamlError("a: [b, *c]"), at: 1, 8, "aliases")
        expectFailure(yamlError("a: 1\n&k b: 2"), at: 2, 1, "anchors")
    }

    @Test func tags() {
        expectFailure(yamlError("a: !!str 1"), at: 1, 4, "tags ('!') are not supported")
        expectFailure(yamlError("a:\n  - !custom x"), at: 2, 5, "tags")
    }

    @Test func blockScalars() {
        expectFailure(yamlError("a: |\n  text"), at: 1, 4, "block scalars ('|' and '>') are not supported")
        expectFailure(yamlError("x: 1\nb: >-\n  folded"), at: 2, 4, "block scalars")
    }

    @Test func multipleDocumentsAndMarkers() {
        expectFailure(yamlError("a: 1\n---\nb: 2"), at: 2, 1, "multiple documents are not supported")
        expectFailure(yamlError("---\n---\na: 1"), at: 2, 1, "multiple documents")
        expectFailure(yamlError("a: 1\n..."), at: 2, 1, "document end markers")
        expectFailure(yamlError("%YAML 1.2\n---\na: 1"), at: 1, 1, "directives")
        expectFailure(yamlError("--- a: 1"), at: 1, 5, "on the line after '---'")
    }

    @Test func tabsUsedForIndentation() {
        expectFailure(yamlError("a:\n\tb: 1"), at: 2, 1, "tab indents this line")
        expectFailure(yamlError("a:\n  \tb: 1"), at: 2, 3, "replace the tab with spaces")
        expectFailure(yamlError("-\ta"), at: 1, 2, "a tab follows '-'")
    }

    @Test func duplicateKeys() {
        expectFailure(yamlError("a: 1\nb: 2\na: 3"), at: 3, 1, "duplicate key 'a' (first at line 1)")
        expectFailure(yamlError("- x: 1\n  x: 2"), at: 2, 3, "duplicate key 'x'")
        expectFailure(yamlError("m: {a: 1, b: 2, a: 3}"), at: 1, 17, "duplicate key 'a'")
        expectFailure(yamlError("\"a\": 1\na: 2"), at: 2, 1, "duplicate key 'a'")
    }

    @Test func inconsistentIndentation() {
        expectFailure(yamlError("a:\n    b: 1\n  c: 2"), at: 3, 3, "inconsistent indentation")
        expectFailure(yamlError("-\n    - a\n  - b"), at: 3, 3, "inconsistent indentation")
        expectFailure(yamlError("- a\n - b"), at: 2, 2, "unexpected indentation")
        expectFailure(yamlError("  a: 1\nb: 2"), at: 2, 1, "left of the document's first line")
        expectFailure(yamlError("hosts:\n  - name: a\n     role: b"), at: 3, 6, "unexpected indentation")
    }

    @Test func valuesDoNotContinueOnTheNextLine() {
        expectFailure(yamlError("a: some text\n  continued here"), at: 2, 3, "values cannot continue on the next line")
        expectFailure(yamlError("just text\nmore text"), at: 2, 1, "a document holds one value")
        expectFailure(yamlError("a: \"open\n  close\""), at: 1, 4, "not closed on its line")
        expectFailure(yamlError("a: 'open"), at: 1, 4, "single-quoted string is not closed")
        expectFailure(yamlError("a: [x,\n  y]"), at: 1, 4, "this '[' is not closed on its line")
        expectFailure(yamlError("a: {x: 1"), at: 1, 4, "this '{' is not closed")
        expectFailure(yamlError("a: \"x\\\n  y\""), at: 1, 6, "would continue the string")
    }

    @Test func complexKeys() {
        expectFailure(yamlError("? a\n: b"), at: 1, 1, "complex keys ('?') are not supported")
        expectFailure(yamlError("x: 1\n? [a]\n: b"), at: 2, 1, "complex keys")
        expectFailure(yamlError("m: {[a]: b}"), at: 1, 5, "complex keys are not supported")
        expectFailure(yamlError("[a]: b"), at: 1, 4, "only plain or quoted scalars can be keys")
    }

    @Test func malformedValues() {
        expectFailure(yamlError("a: b: c"), at: 1, 5, "a plain value cannot contain ': '")
        expectFailure(yamlError("a: - b"), at: 1, 4, "a sequence cannot start on the line of its key")
        expectFailure(yamlError("a: \"x\"# c"), at: 1, 7, "put a space before '#'")
        expectFailure(yamlError("a: \"x\" y"), at: 1, 8, "unexpected text after the quoted string")
        expectFailure(yamlError("a: [x] y"), at: 1, 8, "unexpected text after the flow collection")
        expectFailure(yamlError("a: \"\\q\""), at: 1, 5, "unknown escape '\\q'")
        expectFailure(yamlError("a: \"\\x4\""), at: 1, 5, "needs 2 hexadecimal digits")
        expectFailure(yamlError("a: \"\\uD800\""), at: 1, 5, "not a surrogate")
        expectFailure(yamlError("a: @x"), at: 1, 4, "cannot start with '@'")
        expectFailure(yamlError(": x"), at: 1, 1, "a key is missing before ':'")
        expectFailure(yamlError("a: [x, , y]"), at: 1, 8, "empty entry")
        expectFailure(yamlError("a: [x y: z]"), at: 1, 8, "a 'key: value' pair inside [ ] is not supported")
        expectFailure(yamlError("a: {x:1}"), at: 1, 8, "expected ':' after the key 'x:1'")
        expectFailure(yamlError("a: }"), at: 1, 4, "unexpected '}'")
    }

    @Test func mixedBlocks() {
        expectFailure(yamlError("a: 1\n- b"), at: 2, 1, "a '- ' item cannot follow mapping entries")
        expectFailure(yamlError("- a\nb: 1"), at: 2, 1, "expected another '- ' item")
        expectFailure(yamlError("a: 1\njust text"), at: 2, 1, "expected 'key: value'")
    }

    @Test func emptyDocument() {
        expectFailure(yamlError(""), at: 1, 1, "the document is empty")
        expectFailure(yamlError("# only a comment\n\n---\n"), at: 1, 1, "the document is empty")
    }

    @Test func flowNestingIsBounded() {
        let deep = "a: " + String(repeating: "[", count: YAMLSubset.flowDepthMax + 1) + String(repeating: "]", count: YAMLSubset.flowDepthMax + 1)
        expectFailure(yamlError(deep), at: 1, 4 + YAMLSubset.flowDepthMax, "nest deeper than")
        let fine = "a: " + String(repeating: "[", count: YAMLSubset.flowDepthMax) + String(repeating: "]", count: YAMLSubset.flowDepthMax)
        #expect(yamlError(fine) == nil)
    }
}
