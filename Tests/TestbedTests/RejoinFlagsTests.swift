//! The flag rewrite that rejoins a wiped etcd member as a new member (`restart --wipe`).

import EtcdClient
import Testbed
import Testing

@Suite struct RejoinFlagsTests {
    let founding = [
        "etcd", "--name", "etcd-1", "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
        "--initial-cluster", "etcd-0=http://10.0.0.0:2380,etcd-1=http://10.0.0.1:2380",
        "--initial-cluster-state", "new", "--heartbeat-interval", "50",
    ]

    @Test func rewritesClusterAndStateInPlace() {
        let rewritten = RejoinFlags.rewrite(founding, initialCluster: "etcd-0=http://10.0.0.0:2380,etcd-1=http://10.0.0.1:2380")
        #expect(RejoinFlags.value(of: "--initial-cluster-state", in: rewritten) == "existing")
        #expect(rewritten.count == founding.count, "flags were appended instead of replaced: \(rewritten)")
        #expect(RejoinFlags.value(of: "--heartbeat-interval", in: rewritten) == "50")
    }

    @Test func addsMissingFlags() {
        let rewritten = RejoinFlags.rewrite(["etcd", "--name", "x"], initialCluster: "x=http://a:1")
        #expect(RejoinFlags.value(of: "--initial-cluster", in: rewritten) == "x=http://a:1")
        #expect(RejoinFlags.value(of: "--initial-cluster-state", in: rewritten) == "existing")
    }

    @Test func namesTheJoinerAndSkipsUnnamedStrangers() {
        let members = [
            EtcdClient.Member(id: 7, name: "etcd-0", peerURLs: ["http://10.0.0.0:2380"]),
            EtcdClient.Member(id: 9, name: "", peerURLs: ["http://10.0.0.1:2380"]),
            EtcdClient.Member(id: 3, name: "etcd-2", peerURLs: ["http://10.0.0.2:2380", "http://10.0.1.2:2380"]),
            EtcdClient.Member(id: 11, name: "", peerURLs: ["http://10.0.0.9:2380"]),
        ]
        let cluster = RejoinFlags.initialCluster(members: members, joiner: 9, name: "etcd-1")
        #expect(cluster == "etcd-0=http://10.0.0.0:2380,etcd-1=http://10.0.0.1:2380,etcd-2=http://10.0.0.2:2380,etcd-2=http://10.0.1.2:2380")
    }

    @Test func valueOfAFlagWithoutValueIsNil() {
        #expect(RejoinFlags.value(of: "--name", in: ["etcd", "--name"]) == nil)
        #expect(RejoinFlags.value(of: "--data-dir", in: founding) == nil)
    }
}
