//! The cluster network as the kernel sees it (root only; CI runs as root): namespaces and links
//! come up as planned, hosts reach the switch but not each other's real addresses, the root
//! namespace routes to the service addresses, and teardown leaves nothing behind.

import Foundation
import Synchronization
import Testbed
import Testing

private let isRoot = getuid() == 0

/// A TCP connect attempt with a 1 s timeout, from inside `namespace` (or the root namespace):
/// "ok", "refused" or "timeout".
private func connect(_ address: String, _ port: Int, from namespace: String?) -> String {
    let script = """
        import socket
        s = socket.socket(); s.settimeout(1)
        try:
            s.connect(("\(address)", \(port))); print("ok")
        except ConnectionRefusedError: print("refused")
        except OSError as e: print("timeout" if "timed out" in str(e) else "error " + str(e))
        """
    return run(["/usr/bin/python3", "-c", script], in: namespace).output.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct NetworkPlanTests {
    @Test func addressesAndNames() {
        let plan = NetworkPlan(cluster: "demo", slot: 3, hosts: ["etcd-1", "etcd-2"])
        #expect(plan.namespace("etcd-2") == "fl-demo-etcd-2" && plan.switchNamespace == "fl-demo-sw")
        #expect(plan.realAddress("etcd-2") == "10.203.2.2" && plan.switchSideAddress("etcd-2") == "10.203.2.1")
        #expect(plan.serviceAddress("etcd-1") == "10.203.255.1" && plan.realAddress("client") == "10.203.0.2")
        #expect(plan.hostCommands("etcd-1").contains("route add default via 10.203.1.1"))
        #expect(plan.rootCommands().contains("route add 10.203.255.0/24 via 10.203.0.1"))
        // Every link name fits the kernel's 15 characters, even at the largest slot and index.
        let big = NetworkPlan(cluster: "x", slot: 31, hosts: (1...254).map { "h\($0)" })
        for line in big.rootCommands() where line.hasPrefix("link add") {
            for word in line.split(separator: " ") where word.hasPrefix("fl") { #expect(word.count <= 15, "\(word)") }
        }
    }
}

/// Every test that creates namespaces runs inside this suite, one at a time: `down --all` in one
/// of them would otherwise remove another's namespaces.
@Suite(.serialized, .enabled(if: isRoot, "network namespaces need root")) enum RootTests {}

extension RootTests {
@Suite struct NamespaceTests {
    @Test func hostsReachOnlyTheSwitchAndTeardownIsComplete() throws {
        let plan = NetworkPlan(cluster: "nt\(getpid() % 100_000)", slot: 31, hosts: ["a", "b"])
        Namespaces.destroy(plan)
        try Namespaces.create(plan)
        var destroyed = false
        defer { if !destroyed { Namespaces.destroy(plan) } }
        let names = try Namespaces.existing(prefix: plan.prefix)
        #expect(names == [plan.namespace("a"), plan.namespace("b"), plan.switchNamespace].sorted())
        #expect(throws: NamespaceError.self) { try Namespaces.create(plan) }

        // A listener on b, on all of b's addresses.
        let listener = Process()
        let command = Namespaces.exec(in: plan.namespace("b")) + ["/usr/bin/python3", "-c",
            "import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('0.0.0.0', 7000)); s.listen(); time.sleep(30)"]
        listener.executableURL = URL(fileURLWithPath: command[0])
        listener.arguments = Array(command.dropFirst())
        try listener.run()
        defer {
            kill(listener.processIdentifier, SIGKILL)
            listener.waitUntilExit()
        }
        let real = plan.realAddress("b")
        var fromSwitch = "timeout"
        for _ in 0..<50 where fromSwitch != "ok" {
            fromSwitch = connect(real, 7000, from: plan.switchNamespace)
            if fromSwitch != "ok" { usleep(100_000) }
        }
        #expect(fromSwitch == "ok", "the switch reaches b's real address")
        // Host a has a route to b's real address only through the switch, which does not forward.
        #expect(connect(real, 7000, from: plan.namespace("a")) != "ok", "a must not reach b's real address directly")
        #expect(run(["/bin/cat", "/proc/sys/net/ipv4/ip_forward"], in: plan.switchNamespace).output.hasPrefix("0"))
        // The root namespace (host 'client') is routed to the service addresses: nothing listens
        // there yet (the proxy would), so the switch refuses rather than the packet getting lost.
        #expect(connect(plan.serviceAddress("b"), 7000, from: nil) == "refused")
        #expect(connect(plan.serviceAddress("b"), 7000, from: plan.namespace("a")) == "refused")

        Namespaces.destroy(plan)
        destroyed = true
        #expect(try Namespaces.existing(prefix: plan.prefix).isEmpty, "namespaces left behind")
        #expect(!run(["/usr/sbin/ip", "link", "show"]).output.contains("fl31h0"), "the client link was left behind")
        #expect(!run(["/usr/sbin/ip", "route", "show"]).output.contains("10.231.255.0/24"), "the route was left behind")
    }

    @Test func downAllRemovesWhatNoRecordKnows() throws {
        // A namespace and a client link as a crashed run would leave them, with a process inside.
        let plan = NetworkPlan(cluster: "orphan\(getpid() % 10_000)", slot: 28, hosts: ["a"])
        Namespaces.destroy(plan)
        try Namespaces.create(plan)
        let sleeper = Process()
        let command = Namespaces.exec(in: plan.namespace("a")) + ["/bin/sleep", "300"]
        sleeper.executableURL = URL(fileURLWithPath: command[0])
        sleeper.arguments = Array(command.dropFirst())
        try sleeper.run()
        // Only this test's leftovers: a full `down --all` would also take down the clusters that
        // tests running beside this one are using.
        Cleanup.downAll(LeftoverScope(clusterRecords: false, namespacePrefix: plan.prefix, linkPattern: "^fl28h0$"), log: { _ in })
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal, "the process inside was not stopped")
        #expect(try Namespaces.existing(prefix: plan.prefix).isEmpty, "namespaces left behind")
        #expect(!run(["/usr/sbin/ip", "link", "show"]).output.contains("fl28h0"), "the client link was left behind")
    }
}
}

@Suite struct SlotClaimTests {
    @Test func concurrentClaimsGetDistinctSlotsAndStaleOnesAreTakenOver() throws {
        let base = NSTemporaryDirectory() + "fl-slots-\(getpid())"
        let (root, clusters) = (base + "/slots", base + "/clusters")
        defer { try? FileManager.default.removeItem(atPath: base) }
        for index in 0..<8 { try FileManager.default.createDirectory(atPath: clusters + "/c\(index)", withIntermediateDirectories: true) }
        let slots = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let slot = SlotClaims.claim(for: "c\(index)", in: root, clusters: clusters) { _ in true }
            slots.withLock { $0.append(slot ?? -1) }
        }
        let claimed = slots.withLock { $0.sorted() }
        #expect(claimed == Array(0..<8), "claims collided: \(claimed)")
        let slotOf = { (cluster: String) in (0..<8).first { (try? String(contentsOfFile: root + "/\($0)", encoding: .utf8)) == cluster } }
        // A claim whose cluster directory is gone is stale and taken over.
        let slot3 = try #require(slotOf("c3"))
        try FileManager.default.removeItem(atPath: clusters + "/c3")
        try FileManager.default.createDirectory(atPath: clusters + "/late", withIntermediateDirectories: true)
        #expect(SlotClaims.claim(for: "late", in: root, clusters: clusters) { _ in true } == slot3)
        // A released slot is the next one given; slots the caller says are in use are skipped.
        let slot5 = try #require(slotOf("c5"))
        SlotClaims.release(of: "c5", in: root)
        #expect(SlotClaims.claim(for: "again", in: root, clusters: clusters) { _ in true } == slot5)
        #expect(SlotClaims.claim(for: "picky", in: root, clusters: clusters) { $0 > 9 } == 10)
    }
}
