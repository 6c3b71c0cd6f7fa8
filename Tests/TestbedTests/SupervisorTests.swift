//! The supervisor with stand-ins (root only): a fake proxy (a script that reports ready and
//! waits) and hosts that just sleep, so these tests exercise namespaces, process lifecycles,
//! process faults, the trace and cleanup without depending on the real proxy or store.

import Base
import Foundation
import Net
import Testbed
import Testing


/// A script that stands in for `faultline`: `proxy …` prints "proxy ready" and sleeps.
private func fakeFaultline() throws -> String {
    let path = NSTemporaryDirectory() + "fl-fake-faultline-\(getpid()).sh"
    try "#!/bin/sh\necho proxy ready\nexec sleep 300\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
}

private func processState(_ pid: Int32) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(close, offsetBy: 2)]
}

private func networkNamespace(_ pid: Int32) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
}

private func waitFor(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

extension RootTests {
@Suite struct SupervisorTests {
    func launches(_ hosts: [String], data: String) -> [HostLaunch] {
        hosts.map { HostLaunch(name: $0, role: "external", executable: "/bin/sleep", arguments: ["300"], ports: [7000],
            dataDirectory: data + "/" + $0, healthPort: nil) }
    }

    @Test func processFaultsTraceAndDown() throws {
        let cluster = "sv\(getpid() % 100_000)"
        let plan = NetworkPlan(cluster: cluster, slot: 30, hosts: ["a", "b"])
        let directory = ClusterDirectory(cluster: cluster)
        try? FileManager.default.removeItem(atPath: directory.path)
        let supervisor = try Supervisor.up(cluster: cluster, topology: "test", plan: plan,
            launches: launches(["a", "b"], data: directory.dataPath), faultline: try fakeFaultline(), log: { _ in })
        var wentDown = false
        defer {
            if !wentDown { supervisor.down() }
            try? FileManager.default.removeItem(atPath: directory.path)
        }
        let record = try directory.load()
        #expect(record.state == "running" && record.hosts.allSatisfy { $0.state == .running && $0.pid != nil })
        let pidA = try #require(record.host("a")?.pid)
        #expect(networkNamespace(pidA) != networkNamespace(getpid()), "host a runs in its own network namespace")

        // pause / resume: SIGSTOP and SIGCONT, and the record follows.
        try supervisor.fault("pause", host: "a")
        #expect(waitFor { processState(pidA) == "T" }, "a is not stopped")
        #expect(try directory.load().host("a")?.state == .paused)
        try supervisor.fault("resume", host: "a")
        #expect(waitFor { processState(pidA) == "S" || processState(pidA) == "R" }, "a did not resume")

        // kill: the exit is noticed and recorded; killing it again is refused.
        try supervisor.fault("kill", host: "a")
        #expect(waitFor { (try? directory.load().host("a")?.state) == .stopped }, "the kill was not noticed")
        #expect(try directory.load().host("a")?.lastExit == "signal 9")
        #expect(throws: SupervisorError.self) { try supervisor.fault("kill", host: "a") }

        // An exit nobody asked for is an unexpected exit.
        let pidB = try #require(record.host("b")?.pid)
        kill(pidB, SIGKILL)
        #expect(waitFor { (try? directory.load().host("b")?.state) == .exited }, "b's crash was not noticed")

        // restart --wipe: a new process, an emptied data directory.
        try "x".write(toFile: directory.dataPath + "/a/marker", atomically: true, encoding: .utf8)
        try supervisor.fault("restart", host: "a", wipe: true)
        let restarted = try directory.load().host("a")
        #expect(restarted?.state == .running && restarted?.pid != pidA && restarted?.restarts == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.dataPath + "/a/marker"), "--wipe kept the data")
        #expect(throws: SupervisorError.self) { try supervisor.fault("explode", host: "a") }
        #expect(throws: SupervisorError.self) { try supervisor.fault("kill", host: "nobody") }

        // skew: the host's clock file says what its FaultClock will read; bad rates are refused.
        try supervisor.skew(host: "a", offset: 30 * Time.second, rate: 1.5)
        let clock = FaultClock(path: supervisor.clockPath("a"))
        #expect(abs(clock.wallNow().timeIntervalSince(Date()) - 30) < 1 && clock.setting.rate == 1.5)
        #expect(throws: SupervisorError.self) { try supervisor.skew(host: "a", offset: 0, rate: 0) }

        // The trace has every event, in order, with monotonic timestamps.
        let lines = try String(contentsOfFile: directory.tracePath, encoding: .utf8).split(separator: "\n")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let times = events.compactMap { $0["t_ns"] as? Int }
        #expect(times.count == events.count && times == times.sorted())
        let sequence = events.compactMap { event -> String? in
            guard let host = event["host"] as? String, host == "a" else { return nil }
            return event["event"] as? String
        }
        #expect(sequence == ["start", "pause", "resume", "kill", "exit", "restart-wipe", "start", "skew"], "\(sequence)")

        // Down: every process gone, the network gone.
        let pidAfter = try #require(restarted?.pid)
        supervisor.down()
        wentDown = true
        #expect(kill(pidAfter, 0) != 0, "a still runs after down")
        #expect(try Namespaces.existing(prefix: plan.prefix).isEmpty, "namespaces left behind")
    }

    @Test func cleanupWithoutTheSupervisor() throws {
        let cluster = "cl\(getpid() % 100_000)"
        let plan = NetworkPlan(cluster: cluster, slot: 29, hosts: ["a"])
        let directory = ClusterDirectory(cluster: cluster)
        try? FileManager.default.removeItem(atPath: directory.path)
        // The supervisor "crashes": it is never told to go down, only its record remains.
        let supervisor = try Supervisor.up(cluster: cluster, topology: "test", plan: plan,
            launches: launches(["a"], data: directory.dataPath), faultline: try fakeFaultline(), log: { _ in })
        let record = try directory.load()
        let pids = [record.host("a")?.pid, record.proxy?.pid].compactMap { $0 }
        #expect(pids.count == 2)
        Cleanup.down(directory, log: { _ in })
        #expect(waitFor { pids.allSatisfy { kill($0, 0) != 0 } }, "processes left after cleanup")
        #expect(try Namespaces.existing(prefix: plan.prefix).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        supervisor.down()  // nothing left to do; must not fail
    }
}
}
