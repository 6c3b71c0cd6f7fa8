//! The plan's pod ranges and pod routing as commands (pure): each host gets its own range (one
//! block per slot on loopback), the one its kubelet is given and the switch routes; the switch
//! makes the pod supernet local, sends marked sockets to each host's pod network by a table
//! consulted before the `local` table, and accepts packets from local sources; hosts and the
//! root namespace get nothing new; loopback mode gets none of the routing.

import Foundation
import Testbed
import Testing

@Suite struct PodNetworkPlanTests {
    let plan = NetworkPlan(cluster: "demo", slot: 3, hosts: ["etcd-1", "etcd-2"], podPorts: [80, 8080])

    @Test func hostNHasThePodNetworkOfItsPlaceInTheFile() {
        #expect(plan.podNetwork("etcd-1") == "10.244.1.0/24" && plan.podNetwork("etcd-2") == "10.244.2.0/24")
        #expect(plan.podNetwork("client") == nil && plan.podNetwork("nobody") == nil)
        #expect(NetworkPlan.podSupernet == "10.244.0.0/16" && plan.podPorts == [80, 8080])
    }

    /// The pod range each kubelet is given (`{{pod_cidr}}`): one /24 per host by its place in the
    /// file; on loopback one block per cluster slot, since every cluster shares the one `lo`.
    @Test func podCIDRIsOnePerHostAndPerLoopbackSlot() {
        #expect(plan.podCIDR("etcd-1") == "10.244.1.0/24" && plan.podCIDR("etcd-2") == "10.244.2.0/24")
        #expect(plan.podCIDR("etcd-2") != plan.podCIDR("etcd-1"), "two hosts never share a pod range")
        #expect(plan.podCIDR("client") == nil && plan.podCIDR("nobody") == nil)
        // In namespaces the switch routes exactly the range the kubelet is given.
        for host in plan.hosts { #expect(plan.podNetwork(host) == plan.podCIDR(host)) }

        // Slot 3: hosts on 127.203.x.x, pods on 127.103.N.0/24.
        let loopback = NetworkPlan(cluster: "demo", slot: 3, hosts: ["etcd-1", "etcd-2"], loopback: true)
        #expect(loopback.realAddress("etcd-2") == "127.203.2.2" && loopback.serviceAddress("etcd-2") == "127.203.255.2")
        #expect(loopback.podCIDR("etcd-1") == "127.103.1.0/24" && loopback.podCIDR("etcd-2") == "127.103.2.0/24")
        #expect(loopback.podCIDR("etcd-2") != "10.244.2.0/24", "loopback pods stay off the namespace range")
        #expect(loopback.podNetwork("etcd-2") == nil, "but the switch routes no pods on loopback")
        let otherSlot = NetworkPlan(cluster: "other", slot: 0, hosts: ["etcd-1"], loopback: true)
        #expect(otherSlot.podCIDR("etcd-1") == "127.100.1.0/24")
        #expect(otherSlot.podCIDR("etcd-1") != loopback.podCIDR("etcd-1"), "two slots never share pod addresses")
    }

    @Test func theSwitchRoutesMarkedSocketsToThePodsHost() {
        let commands = plan.switchCommands()
        let podRouting = [
            "route add local 10.244.0.0/16 dev lo",
            "rule add priority 100 fwmark 0x1 lookup 100",
            "rule add priority 32765 lookup local",
            "rule del priority 0 lookup local",
            "route add 10.244.1.0/24 via 10.203.1.2 dev fl3s1 table 100",
            "route add 10.244.2.0/24 via 10.203.2.2 dev fl3s2 table 100",
        ]
        #expect(Array(commands.suffix(podRouting.count)) == podRouting, "\(commands)")
        // The links and service addresses come first: a `via` needs its link up and addressed.
        #expect(commands.firstIndex(of: "link set fl3s2 up")! < commands.firstIndex(of: podRouting[4])!)
        #expect(plan.switchSettings() == [NetworkPlan.KernelSetting(key: "net/ipv4/conf/all/accept_local", value: "1")])
    }

    @Test func hostsAndTheRootNamespaceGetNoPodRoutes() {
        // A host's pods are /32s on its lo, added by its kubelet; its default route already
        // leads to the switch. The root namespace stays off 10.244.0.0/16 (every cluster uses it).
        #expect(plan.hostCommands("etcd-1") == ["link set lo up", "addr add 10.203.1.2/24 dev fl3h1", "link set fl3h1 up",
            "route add default via 10.203.1.1"])
        #expect(!plan.rootCommands().contains { $0.contains("10.244.") })
        #expect(!plan.teardownCommands().contains { $0.contains("10.244.") }, "the namespaces take their routes with them")
    }

    @Test func loopbackModeHasNoPodRouting() {
        let loopback = NetworkPlan(cluster: "demo", slot: 3, hosts: ["etcd-1", "etcd-2"], loopback: true, podPorts: [8080])
        #expect(loopback.podNetwork("etcd-1") == nil)
        #expect(!loopback.switchCommands().contains { $0.contains("10.244.") || $0.contains("rule") })
        #expect(loopback.switchSettings().isEmpty)
    }

    @Test func podPortsSurviveTheRecordAndOldRecordsHaveNone() throws {
        let decoded = try JSONDecoder().decode(NetworkPlan.self, from: JSONEncoder().encode(plan))
        #expect(decoded == plan)
        let old = #"{"cluster": "demo", "slot": 3, "hosts": ["etcd-1"], "loopback": false}"#
        #expect(try JSONDecoder().decode(NetworkPlan.self, from: Data(old.utf8)).podPorts == [])
    }
}
