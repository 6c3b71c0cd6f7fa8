//! YAMLSubsetTests: every construct the subset accepts parses to the expected tree, with the
//! positions errors will later point at.

import Testing
import Topology

@Suite struct YAMLSubsetTests {
    @Test func blockMappingsNest() {
        #expect(yamlShape("a: 1\nb:\n  c: x\n  d:\n    e: y\nf: z\n") == "{a: 1, b: {c: x, d: {e: y}}, f: z}")
    }

    @Test func blockSequencesAndNestedSequences() {
        #expect(yamlShape("- a\n- b\n-\n  - c\n  - d\n- - e\n  - f\n") == "[a, b, [c, d], [e, f]]")
    }

    @Test func sequenceOfMappingsWithIndentedKeys() {
        let text = """
            hosts:
              - name: etcd-1
                role: etcd
                flags:
                  - --a
                  - --b
              - name: etcd-2
                role: etcd
            """
        #expect(yamlShape(text) == "{hosts: [{name: etcd-1, role: etcd, flags: [--a, --b]}, {name: etcd-2, role: etcd}]}")
    }

    @Test func sequenceMayShareItsKeysIndentation() {
        // kubectl writes lists this way; the sequence ends at the next key of the mapping.
        let text = "hosts:\n- name: a\n  role: etcd\n- name: b\nafter: 1\n"
        #expect(yamlShape(text) == "{hosts: [{name: a, role: etcd}, {name: b}], after: 1}")
    }

    @Test func flowSequences() {
        #expect(yamlShape(#"a: [x, 2, "c d", 'e', [f, g], [], {k: v}]"#) == #"{a: [x, 2, "c d", 'e', [f, g], [], {k: v}]}"#)
        #expect(yamlShape("a: [x, y,]") == "{a: [x, y]}")
        #expect(yamlShape("a: [ spaced out , here ]  # comment") == "{a: [spaced out, here]}")
    }

    @Test func flowMappings() {
        #expect(yamlShape(#"ports: {client: 1, "peer": 2, x: [a, b], e: }"#) == #"{ports: {client: 1, peer: 2, x: [a, b], e: ~}}"#)
        #expect(yamlShape("{}") == "{}")
        #expect(yamlShape("- {a: 1}\n- {b: 2}") == "[{a: 1}, {b: 2}]")
    }

    @Test func plainScalars() {
        let text = """
            url: http://10.0.0.1:2379
            hash: a#b
            words: several words here   # and a comment
            dash: --flag=value
            negative: -1
            colon: a:b
            template: --name={{name}}
            question: ?x
            """
        #expect(yamlShape(text)
            == "{url: http://10.0.0.1:2379, hash: a#b, words: several words here, dash: --flag=value, negative: -1, colon: a:b, template: --name={{name}}, question: ?x}")
    }

    @Test func quotedScalarsKeepTheirStyleAndUnescape() throws {
        let root = try YAMLSubset.parse(#"""
            single: 'it''s # not a comment'
            double: "tab\there \"q\" back\\slash \x41 \u00e9 \U0001F600 nl\n"
            one: "1"
            plain: 1
            'quoted key': v
            """#, file: "t.yaml")
        guard case .scalar(let single) = root["single"]?.content, case .scalar(let double) = root["double"]?.content,
            case .scalar(let one) = root["one"]?.content, case .scalar(let plain) = root["plain"]?.content
        else {
            Issue.record("unexpected shape: \(shape(root))")
            return
        }
        #expect(single == DocumentNode.Scalar("it's # not a comment", style: .singleQuoted))
        #expect(double == DocumentNode.Scalar("tab\there \"q\" back\\slash A é 😀 nl\n", style: .doubleQuoted))
        #expect(one.isQuoted && one.text == "1")
        #expect(!plain.isQuoted && plain.text == "1")
        #expect(root["quoted key"] != nil)
    }

    @Test func commentsAndBlankLines() {
        let text = """
            # leading comment

            a: 1 # trailing
              # indented comment, ignored whatever its indentation
            b:   # nothing here: b is null

            c:
              # comment inside a block
              - x   # item comment
            """
        #expect(yamlShape(text) == "{a: 1, b: ~, c: [x]}")
    }

    @Test func nullsAreEmptyTildeOrNull() {
        #expect(yamlShape("a:\nb: ~\nc: null\nd: 'null'\ne: Null") == "{a: ~, b: ~, c: ~, d: 'null', e: Null}")
    }

    @Test func optionalLeadingDocumentMarker() {
        #expect(yamlShape("---\na: 1") == "{a: 1}")
        #expect(yamlShape("# c\n--- # the document\na: 1") == "{a: 1}")
    }

    @Test func crlfLineEndingsAndByteOrderMark() {
        #expect(yamlShape("\u{FEFF}a: 1\r\nb:\r\n  - x\r\n") == "{a: 1, b: [x]}")
    }

    @Test func rootScalarAndIndentedRoot() {
        #expect(yamlShape("just text") == "just text")
        #expect(yamlShape("  a: 1\n  b: 2") == "{a: 1, b: 2}")
    }

    @Test func positionsPointAtNodesAndKeys() throws {
        let text = """
            # comment
            hosts:
              - name: etcd-1
                role: "etcd"
            ports: {client: 7}
            """
        let root = try YAMLSubset.parse(text, file: "t.yaml")
        #expect(root.position == at(2, 1))
        guard case .mapping(let entries) = root.content, case .sequence(let hosts)? = root["hosts"]?.content else {
            Issue.record("unexpected shape: \(shape(root))")
            return
        }
        #expect(entries.map(\.keyPosition) == [at(2, 1), at(5, 1)])
        #expect(hosts[0].position == at(3, 5))
        #expect(hosts[0]["name"]?.position == at(3, 11))
        #expect(hosts[0]["role"]?.position == at(4, 11))
        #expect(root["ports"]?.position == at(5, 8))
        #expect(root["ports"]?["client"]?.position == at(5, 17))
    }
}
