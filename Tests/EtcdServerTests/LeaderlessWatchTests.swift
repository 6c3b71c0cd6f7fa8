//! Watches that need a leader (`Grpc-Metadata-Hasleader: true`, as kube-apiserver sends): a
//! member that loses its leader ends them with etcd 3.4's "no leader" stream error after three
//! election timeouts, refuses new ones with a chunked 503, and leaves other watches open. The
//! same test runs against real etcd 3.4.23, whose answers these are.

import Base
import EtcdClient
import EtcdServer
import Foundation
import Synchronization
import Testing

/// Ports 26431–26433 (clients) and 26441–26443 (peers) for the built-in members, 26435–26437 and
/// 26445–26447 for real etcd (the two cases run side by side): member indices 1–3 and 5–7.
private func clientURL(_ index: Int) -> String { "http://127.0.0.1:\(26430 + index)" }
private func peerURL(_ index: Int) -> String { "http://127.0.0.1:\(26440 + index)" }

private func flags(_ index: Int, first: Int, directory: String) -> [String] {
    ["--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
        "--listen-client-urls", clientURL(index), "--advertise-client-urls", clientURL(index),
        "--listen-peer-urls", peerURL(index), "--initial-advertise-peer-urls", peerURL(index),
        "--initial-cluster", (first..<first + 3).map { "m\($0)=\(peerURL($0))" }.joined(separator: ","),
        "--heartbeat-interval", "20", "--election-timeout", "200", "--experimental-watch-progress-notify-interval", "100ms"]
}

/// What one watch thread saw: progress revisions, and how the watch ended.
private final class WatchOutcome: Sendable {
    let progress = Mutex<[Int64]>([])
    let ending = Mutex<String?>(nil)
    let endedAt = Mutex<Date?>(nil)
}

extension LiveClusterTests {
    @Suite struct LeaderlessWatchTests {
        private func startWatch(_ endpoint: String, requireLeader: Bool, cancel: WatchCancel) -> WatchOutcome {
            let outcome = WatchOutcome()
            let thread = Thread {
                let client = EtcdClient(endpoints: [endpoint], timeout: 10 * Time.second)
                let ending: String
                do {
                    let reason = try client.watch("lw/", prefix: true, cancel: cancel, requireLeader: requireLeader, progressNotify: true,
                        onProgress: { revision in outcome.progress.withLock { $0.append(revision) } }) { _ in true }
                    ending = "returned \(reason ?? "nil")"
                } catch {
                    ending = "threw \(error)"
                }
                outcome.endedAt.withLock { $0 = Date() }
                outcome.ending.withLock { $0 = ending }
            }
            thread.start()
            return outcome
        }

        /// Three members, built-in (in this process) or real etcd 3.4 (processes); `stopOthers`
        /// stops members 2 and 3.
        private struct ThreeMembers {
            var stopOthers: () -> Void
            var stopAll: () -> Void
        }

        private func startMembers(realEtcd: Bool, first: Int, directory: String) throws -> ThreeMembers {
            if realEtcd {
                var processes: [Process] = []
                for index in first..<first + 3 {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
                    process.arguments = flags(index, first: first, directory: directory)
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    processes.append(process)
                }
                let stop = { (process: Process) in
                    if process.isRunning { process.terminate(); process.waitUntilExit() }
                }
                return ThreeMembers(stopOthers: { processes.dropFirst().forEach(stop) }, stopAll: { processes.forEach(stop) })
            }
            var members: [EtcdMember] = []
            for index in first..<first + 3 {
                let member = try EtcdMember(configuration: try Configuration.parse(flags(index, first: first, directory: directory)), log: { _ in })
                try member.start()
                members.append(member)
            }
            return ThreeMembers(stopOthers: { members.dropFirst().forEach { $0.stop() } }, stopAll: { members.forEach { $0.stop() } })
        }

        @Test(arguments: [false, true]) func aMemberWithoutALeaderEndsTheWatchesThatNeedOne(realEtcd: Bool) throws {
            if realEtcd && !FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") {
                Issue.record("real etcd 3.4 is not installed (Scripts/setup installs etcd-server)")
                return
            }
            let directory = NSTemporaryDirectory() + "fl-leaderless-\(getpid())-\(realEtcd)"
            try? FileManager.default.removeItem(atPath: directory)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let first = realEtcd ? 5 : 1
            let members = try startMembers(realEtcd: realEtcd, first: first, directory: directory)
            defer { members.stopAll() }
            let client = EtcdClient(endpoints: [clientURL(first)], timeout: 10 * Time.second)
            let deadline = Date().addingTimeInterval(15)
            var revision: Int64 = 0
            while revision == 0 && Date() < deadline { revision = (try? client.put("lw/a", "1")) ?? 0; usleep(50_000) }
            try #require(revision > 0, "the cluster never took a write")

            let needsLeaderCancel = WatchCancel(), plainCancel = WatchCancel()
            defer { needsLeaderCancel.cancel(); plainCancel.cancel() }
            let needsLeader = startWatch(clientURL(first), requireLeader: true, cancel: needsLeaderCancel)
            let plain = startWatch(clientURL(first), requireLeader: false, cancel: plainCancel)
            // Progress notifications (every 100 ms here) carry the member's revision.
            let progressed = Date().addingTimeInterval(5)
            while needsLeader.progress.withLock({ $0.isEmpty }) && Date() < progressed { usleep(20_000) }
            #expect(needsLeader.progress.withLock { $0.first } == revision, "progress: \(needsLeader.progress.withLock { $0 })")
            #expect(needsLeader.ending.withLock { $0 } == nil, "ended while the cluster was healthy")

            // Member 1 alone has no leader: three election timeouts (600 ms) later the watch
            // that needs one ends with the no-leader error; the other stays.
            members.stopOthers()
            let stopped = Date()
            let ended = Date().addingTimeInterval(10)
            while needsLeader.ending.withLock({ $0 }) == nil && Date() < ended { usleep(20_000) }
            let ending = try #require(needsLeader.ending.withLock { $0 }, "the watch that needs a leader is still open 10 s later")
            #expect(ending.contains("etcdserver: no leader") && ending.contains("HTTP 503") && ending.contains("code 14"), "\(ending)")
            let after = needsLeader.endedAt.withLock { $0 }!.timeIntervalSince(stopped)
            #expect(after >= 0.6 && after < 5, "ended \(after) s after the others stopped")
            #expect(plain.ending.withLock { $0 } == nil, "a watch that did not ask for a leader ended: \(plain.ending.withLock { $0 } ?? "")")

            // A new watch that needs a leader is refused at once.
            do {
                _ = try client.watch("lw/", prefix: true, requireLeader: true) { _ in true }
                Issue.record("a watch that needs a leader was accepted by a member without one")
            } catch {
                #expect("\(error)".contains("etcdserver: no leader") && "\(error)".contains("HTTP 503"), "\(error)")
            }
        }
    }
}
