//! The member registry as configuration changes build it, and its encoding.

import Base
import EtcdServer
import Raft
import Testing

@Suite struct MemberRegistryTests {
    func add(_ kind: Raft.ConfChange.Kind, _ id: UInt64, _ name: String, _ urls: [String]) -> Raft.ConfChange {
        Raft.ConfChange(kind, id, context: MemberRecord(id: id, name: name, peerURLs: urls, isLearner: kind == .addLearner).context())
    }

    @Test func changesBuildTheRegistry() {
        var registry = MemberRegistry()
        registry.apply(add(.addVoter, 7, "a", ["http://10.0.0.1:2380"]))
        registry.apply(add(.addVoter, 3, "b", ["http://10.0.0.2:2380"]))
        registry.apply(add(.addLearner, 9, "", ["http://10.0.0.3:2380"]))
        #expect(registry.sorted.map(\.id) == [3, 7, 9])
        #expect(registry.members[9]?.isLearner == true && registry.members[9]?.name == "")
        // Promotion: an addVoter with no context keeps the record and clears the learner flag.
        registry.apply(Raft.ConfChange(.addVoter, 9))
        #expect(registry.members[9] == MemberRecord(id: 9, name: "", peerURLs: ["http://10.0.0.3:2380"], isLearner: false))
        // Update replaces the peer URLs only.
        registry.apply(Raft.ConfChange(.updateNode, 7, context: MemberRecord(id: 7, name: "ignored", peerURLs: ["http://10.0.0.9:2380"], isLearner: true).context()))
        #expect(registry.members[7] == MemberRecord(id: 7, name: "a", peerURLs: ["http://10.0.0.9:2380"], isLearner: false))
        registry.apply(Raft.ConfChange(.removeNode, 3))
        #expect(registry.members[3] == nil && registry.removed == [3])
        #expect(registry.sorted.map(\.id) == [7, 9])
    }

    @Test func encodingRoundTripsAndRejectsTruncation() {
        var registry = MemberRegistry()
        registry.apply(add(.addVoter, 1, "one", ["http://127.0.0.1:1", "http://127.0.0.1:2"]))
        registry.apply(add(.addLearner, 2, "", ["http://127.0.0.1:3"]))
        registry.apply(Raft.ConfChange(.removeNode, 5))
        let bytes = registry.encoded()
        var reader = ByteReader(bytes)
        #expect(MemberRegistry(decoding: &reader) == registry && reader.atEnd)
        for cut in [0, 1, 5, bytes.count / 2, bytes.count - 1] {
            var truncated = ByteReader(Array(bytes[..<cut]))
            #expect(MemberRegistry(decoding: &truncated) == nil, "decoded a registry cut at \(cut) of \(bytes.count) bytes")
        }
    }

    @Test func confChangeContextSurvivesTheCodec() {
        let change = add(.addLearner, 42, "n", ["http://127.0.0.1:9"])
        var writer = ByteWriter()
        change.encode(into: &writer)
        var reader = ByteReader(writer.bytes)
        #expect(Raft.ConfChange(from: &reader) == change && reader.atEnd)
        // updateNode leaves the configuration alone.
        let conf = Raft.ConfState(voters: [1, 2], learners: [3])
        #expect(conf.applying(Raft.ConfChange(.updateNode, 2, context: [1, 2, 3])) == conf)
    }
}
