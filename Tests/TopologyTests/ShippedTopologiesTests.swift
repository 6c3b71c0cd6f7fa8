//! ShippedTopologiesTests: every file in Topologies/ loads and validates, and each says what its
//! name promises (found relative to this file, so the tests run from any directory).

import Foundation
import Testing
import Topology

enum Shipped {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Topologies")

    static func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()
    }

    static func load(_ fileName: String) throws -> Topology {
        let path = directory.appendingPathComponent(fileName).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try Topology.load(text, file: "Topologies/\(fileName)")
    }
}

@Suite struct ShippedTopologiesTests {
    @Test func everyShippedFileLoadsAndValidates() throws {
        let names = try Shipped.fileNames()
        #expect(names == ["etcd-1.yaml", "etcd-3-real.yaml", "etcd-3.json", "etcd-3.yaml", "etcd-5.yaml", "etcd-7.yaml", "k8s-apiserver.yaml", "k8s-ha-process.yaml", "k8s-ha.yaml"])
        for name in names {
            do {
                let topology = try Shipped.load(name)
                #expect(topology.name == Topology.baseName(of: name), "\(name) names itself after its file")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test(arguments: [1, 3, 5, 7])
    func etcdClustersHaveTheirSize(size: Int) throws {
        let topology = try Shipped.load("etcd-\(size).yaml")
        #expect(topology.hosts.map(\.name) == (1...size).map { "etcd-\($0)" })
        #expect(topology.hosts.allSatisfy { $0.role == .etcd && $0.clientPort == 2379 && $0.peerPort == 2380 })
        #expect(topology.etcdHosts.count == size)
    }

    @Test func etcd7StretchesTheElectionTimeout() throws {
        let topology = try Shipped.load("etcd-7.yaml")
        #expect(topology.hosts.allSatisfy { $0.timingName == "seven" && $0.timing.election == .milliseconds(1500) })
        #expect(topology.hosts[0].timing.heartbeat == .milliseconds(100))
    }

    @Test func jsonAndYAMLFormsOfEtcd3AreEqual() throws {
        #expect(try Shipped.load("etcd-3.json") == Shipped.load("etcd-3.yaml"))
    }

    @Test func realEtcdHostsImplementEtcd() throws {
        let topology = try Shipped.load("etcd-3-real.yaml")
        #expect(topology.hosts.count == 3)
        for host in topology.hosts {
            #expect(host.role == .external && host.implements == .etcd && host.playsEtcd)
            #expect(host.program?.path == "/usr/bin/etcd")
            #expect(host.clientPort == 2379 && host.peerPort == 2380)
        }
    }

    @Test func kubernetesHA() throws {
        let topology = try Shipped.load("k8s-ha.yaml")
        func names(_ role: Role) -> [String] { topology.hosts.filter { $0.role == role }.map(\.name) }
        #expect(names(.etcd) == ["etcd-1", "etcd-2", "etcd-3"])
        #expect(names(.apiserver) == ["apiserver-1", "apiserver-2"])
        #expect(names(.scheduler) == ["scheduler-1", "scheduler-2"])
        #expect(names(.controllerManager) == ["controller-manager-1", "controller-manager-2"])
        #expect(names(.kubelet) == ["worker-1", "worker-2", "worker-3"])
        #expect(topology.hosts.count == 12)
        #expect(topology.host(named: "apiserver-1")?.clientPort == 6443)
        #expect(topology.host(named: "worker-1")?.timing.nodeMonitorGracePeriod == .seconds(8))
        #expect(topology.host(named: "worker-1")?.timing.podEvictionTimeout == .seconds(20))
        #expect(topology.host(named: "etcd-3")?.timingName == "default")
        #expect(topology.summary
            == "k8s-ha: 12 hosts (3 etcd, 2 apiserver, 2 scheduler, 2 controller-manager, 3 kubelet), timing ci, default")
    }

    /// The profile's pod eviction timeout reaches the apiservers' flags, in `ci` and in `scaled`,
    /// and `scaled` keeps a healthy node well inside its grace period.
    @Test func kubernetesHATimingReachesTheDaemons() throws {
        let topology = try Shipped.load("k8s-ha.yaml")
        var hosts: [String: HostAddress] = [:]
        for (index, host) in topology.hosts.enumerated() {
            hosts[host.name] = HostAddress(for: host, ip: "10.0.0.\(index + 1)", dataDirectory: "/data/\(host.name)",
                podCIDR: "10.244.\(index + 1).0/24")
        }
        let plan = AddressPlan(clusterToken: "t", hosts: hosts)
        func flag(_ flag: String, of name: String, in topology: Topology) throws -> String? {
            let host = try #require(topology.host(named: name))
            let arguments = try #require(topology.launchCommand(for: host, plan: plan, etcd: .builtin(faultline: "fl"))).arguments
            return arguments.firstIndex(of: flag).map { arguments[$0 + 1] }
        }
        for apiserver in ["apiserver-1", "apiserver-2"] {
            #expect(try flag("--default-not-ready-toleration-seconds", of: apiserver, in: topology) == "20")
            #expect(try flag("--default-unreachable-toleration-seconds", of: apiserver, in: topology) == "20")
        }

        let scaled = try #require(topology.timingProfiles["scaled"])
        #expect(scaled.violations() == [])
        #expect(scaled.nodeMonitorGracePeriod == .seconds(4) && scaled.nodeMonitorPeriod == .seconds(1))
        #expect(scaled.podEvictionTimeout == .seconds(20))
        // The kubelet renews at a quarter of the lease duration; that must be the profile's renew interval.
        #expect(scaled.nodeLeaseDuration.nanoseconds / 4 == scaled.nodeLeaseRenewInterval.nanoseconds)
        // At least four renewals and four status updates fit in the grace period.
        #expect(scaled.nodeMonitorGracePeriod.nanoseconds >= 4 * scaled.nodeLeaseRenewInterval.nanoseconds)
        #expect(scaled.nodeMonitorGracePeriod.nanoseconds >= 4 * scaled.nodeStatusUpdateFrequency.nanoseconds)
        #expect(scaled.heartbeat == TimingProfile.fast.heartbeat, "the rest comes from fast")

        let retimed = try #require(topology.withTiming("scaled"))
        #expect(try flag("--default-unreachable-toleration-seconds", of: "apiserver-1", in: retimed) == "20")
        #expect(try flag("--node-monitor-grace-period", of: "controller-manager-1", in: retimed) == "4000ms")
        #expect(try flag("--node-lease-duration-seconds", of: "worker-1", in: retimed) == "4")
        #expect(try flag("--node-status-update-frequency", of: "worker-1", in: retimed) == "1000ms")
        // `ci` stays the default profile.
        #expect(try flag("--node-monitor-grace-period", of: "controller-manager-1", in: topology) == "8000ms")
    }
}
