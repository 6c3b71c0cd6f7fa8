//! `partition --groups … --rest-with HOST`: the unnamed hosts join HOST's group; unknown hosts
//! and a --rest-with outside every group are refused with the cluster's hosts named.

import Faults
import Testing

@Suite struct PartitionGroupsTests {
    let hosts = ["etcd-1", "etcd-2", "etcd-3", "apiserver-1", "worker-1"]

    @Test func withoutRestWithTheGroupsStayAndTheRestIsShownAsAGroupOfItsOwn() throws {
        let groups = try PartitionGroups.resolve([["etcd-3"], ["etcd-1", "etcd-2"]], restWith: nil, hosts: hosts)
        #expect(groups == [["etcd-3"], ["etcd-1", "etcd-2"]])
        #expect(PartitionGroups.unnamed(groups, hosts: hosts) == ["apiserver-1", "worker-1"])
        #expect(PartitionGroups.describe(groups, hosts: hosts) == "{etcd-3} | {etcd-1, etcd-2} | {apiserver-1, worker-1}")
    }

    @Test func restWithPutsTheUnnamedHostsInThatHostsGroup() throws {
        let groups = try PartitionGroups.resolve([["etcd-3"], ["etcd-1", "etcd-2"]], restWith: "etcd-1", hosts: hosts)
        #expect(groups == [["etcd-3"], ["etcd-1", "etcd-2", "apiserver-1", "worker-1"]])
        #expect(PartitionGroups.unnamed(groups, hosts: hosts).isEmpty)
        #expect(PartitionGroups.describe(groups, hosts: hosts) == "{etcd-3} | {etcd-1, etcd-2, apiserver-1, worker-1}")
    }

    @Test func unknownHostsAStrayRestWithAndAPartitionThatCutsNothingAreRefused() {
        // One group with --rest-with would put every host together: a partition that cuts nothing.
        #expect(throws: FaultError("partition: with --rest-with every host is in one group and nothing is cut; name two groups or more (--groups etcd-3/OTHERS), or drop --rest-with to cut etcd-3 off from everyone else")) {
            try PartitionGroups.resolve([["etcd-3"]], restWith: "etcd-3", hosts: hosts)
        }
        #expect(throws: FaultError("partition: no host 'etcd-9' in this cluster (its hosts: etcd-1, etcd-2, etcd-3, apiserver-1, worker-1)")) {
            try PartitionGroups.resolve([["etcd-9"], ["etcd-1"]], restWith: nil, hosts: hosts)
        }
        #expect(throws: FaultError("partition: no host 'etcd-7' in this cluster (its hosts: etcd-1, etcd-2, etcd-3, apiserver-1, worker-1)")) {
            try PartitionGroups.resolve([["etcd-3"]], restWith: "etcd-7", hosts: hosts)
        }
        #expect(throws: FaultError("partition: --rest-with worker-1 names a host in no group; name one of the hosts in --groups")) {
            try PartitionGroups.resolve([["etcd-3"], ["etcd-1"]], restWith: "worker-1", hosts: hosts)
        }
    }
}
