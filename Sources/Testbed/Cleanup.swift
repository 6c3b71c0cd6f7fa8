//! Taking clusters down, including after the supervisor itself died: processes are stopped by the
//! PIDs recorded in `cluster.json` (each checked against its recorded command line first, since a
//! PID can be reused), or by the PIDs the kernel lists inside our `fl-` namespaces — never by name.

import Base
import Foundation
import Glibc
import Net

public enum Cleanup {
    /// Takes one cluster down and removes its directory. Asks its supervisor first; if that does
    /// not answer, does the supervisor's work from the record.
    public static func down(_ directory: ClusterDirectory, log: (String) -> Void) {
        let record = try? directory.load()
        if let record, let merged = try? String(contentsOfFile: directory.mergedKubeconfigMarker, encoding: .utf8) {
            let servers = record.apiservers
            if !servers.isEmpty { Kubeconfig.unmerge(cluster: record.name, servers: servers, from: merged) }
        }
        if let record, let control = record.supervisorControl, let endpoint = try? Endpoint(parsing: control),
            let supervisor = record.supervisor, matches(supervisor)
        {
            _ = try? HTTPClient(endpoint: endpoint).post("/down", body: [], timeout: 5 * Time.second)
            // The supervisor stops every host (up to 2 s each) and removes the network.
            let deadline = Date().addingTimeInterval(30)
            while kill(supervisor.pid, 0) == 0 && matches(supervisor) && Date() < deadline { usleep(20_000) }
        }
        if let record {
            for host in record.hosts {
                if let pid = host.pid { stop(ProcessRecord(pid: pid, command: [host.launch.executable] + host.launch.arguments), log: log) }
            }
            if let proxy = record.proxy { stop(proxy, log: log) }
            if let supervisor = record.supervisor { stop(supervisor, log: log) }
            for namespace in record.plan.loopback ? [] : [record.plan.switchNamespace] + record.plan.hosts.map(record.plan.namespace) {
                stopProcesses(inNamespace: namespace, log: log)
            }
            Namespaces.destroy(record.plan)
        }
        try? FileManager.default.removeItem(atPath: directory.path)
        SlotClaims.release(of: directory.name)
    }

    /// Every cluster on record, then any `fl-` namespace or client link still left.
    public static func downAll(log: (String) -> Void) { downAll(.everything, log: log) }

    /// Takes down what `scope` covers: the recorded clusters (when it includes them), then any
    /// namespace and client link left behind without a record.
    public static func downAll(_ scope: LeftoverScope, log: (String) -> Void) {
        if scope.clusterRecords {
            for directory in ClusterDirectory.all() {
                log("taking down \(directory.path)")
                down(directory, log: log)
            }
        }
        for namespace in (try? Namespaces.existing(prefix: scope.namespacePrefix)) ?? [] {
            log("removing leftover namespace \(namespace)")
            stopProcesses(inNamespace: namespace, log: log)
            try? Namespaces.remove(namespace: namespace)
        }
        let links = (try? Namespaces.ip(["-o", "link", "show"])) ?? ""
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = fields[1].split(separator: "@").first.map { String($0).replacingOccurrences(of: ":", with: "") } ?? ""
            if name.range(of: scope.linkPattern, options: .regularExpression) != nil {
                log("removing leftover link \(name)")
                _ = try? Namespaces.ip(["link", "del", name])
            }
        }
        // Every cluster is gone, so every slot claim is stale.
        if scope.clusterRecords { try? FileManager.default.removeItem(atPath: SlotClaims.root) }
    }

    /// True when `process` is alive and still runs the recorded command.
    static func matches(_ process: ProcessRecord) -> Bool {
        guard process.pid > 1, let data = FileManager.default.contents(atPath: "/proc/\(process.pid)/cmdline"), !data.isEmpty else { return false }
        let words = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        return !words.isEmpty && Array(process.command.suffix(words.count)) == words
    }

    static func stop(_ process: ProcessRecord, log: (String) -> Void) {
        guard matches(process) else { return }
        log("stopping pid \(process.pid) (\(process.command.last ?? ""))")
        kill(process.pid, SIGCONT)
        kill(process.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while matches(process) && Date() < deadline { usleep(20_000) }
        if matches(process) { kill(process.pid, SIGKILL) }
    }

    /// Processes inside one of our namespaces (as the kernel lists them) get SIGKILL.
    static func stopProcesses(inNamespace namespace: String, log: (String) -> Void) {
        precondition(namespace.hasPrefix("fl-"), "not one of our namespaces: \(namespace)")
        let listing = (try? Namespaces.ip(["netns", "pids", namespace])) ?? ""
        for pid in listing.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) where pid > 1 {
            log("killing pid \(pid) left in \(namespace)")
            kill(pid, SIGKILL)
        }
    }
}

/// What `Cleanup.downAll` may take down. `down --all` takes everything Faultline left behind; a
/// test narrows it to its own leftovers, so that clusters other tests run beside it survive.
public struct LeftoverScope: Sendable {
    /// Whether recorded clusters (and slot claims) go too.
    public var clusterRecords: Bool
    /// Namespaces with this prefix are removed, with the processes inside.
    public var namespacePrefix: String
    /// Host-side client links whose names match this regular expression are deleted.
    public var linkPattern: String

    public init(clusterRecords: Bool, namespacePrefix: String, linkPattern: String) {
        self.clusterRecords = clusterRecords
        self.namespacePrefix = namespacePrefix
        self.linkPattern = linkPattern
    }

    public static let everything = LeftoverScope(clusterRecords: true, namespacePrefix: "fl-", linkPattern: #"^fl[0-9]+h0$"#)
}
