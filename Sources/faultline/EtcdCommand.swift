//! `faultline etcd`: an etcd-compatible member, with etcd 3.4's flags.
//!
//!     faultline etcd --name m1 --data-dir /tmp/m1 --listen-client-urls http://127.0.0.1:2379 ...

import Dispatch
import EtcdServer
import Foundation
import Glibc
import Net

enum EtcdCommand {
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(Configuration.help)
            return 0
        }
        let configuration: Configuration
        do {
            configuration = try Configuration.parse(arguments)
        } catch {
            FileHandle.standardError.write(Data("faultline etcd: \(error)\n".utf8))
            return 2
        }
        let name = configuration.name
        let log: @Sendable (String) -> Void = { line in
            let stamp = ISO8601DateFormatter.string(from: FaultClock.shared.wallNow(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            FileHandle.standardError.write(Data("\(stamp) \(name): \(line)\n".utf8))
        }
        let member: EtcdMember
        let stopped = DispatchSemaphore(value: 0)
        do {
            member = try EtcdMember(configuration: configuration, log: log)
            // A member removed from the cluster stops, as etcd's does (exit 0).
            member.onRemoved = { stopped.signal() }
            try member.start()
        } catch {
            log("cannot start: \(error)")
            return 1
        }
        // SIGTERM and SIGINT stop cleanly; SIGKILL is what the crash test uses.
        let signals = TerminationSignals.signal(stopped)
        stopped.wait()
        _ = signals
        log("stopping")
        member.stop()
        return 0
    }
}
