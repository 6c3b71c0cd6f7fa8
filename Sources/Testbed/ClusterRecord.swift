//! What a running cluster looks like on disk: one directory per cluster under the Faultline home
//! (`$FAULTLINE_HOME`, default /tmp/faultline), holding `cluster.json` (hosts, namespaces,
//! addresses, PIDs, states — what `faultline status -o json` prints), `trace.jsonl`, `logs/` and
//! `data/`. The supervisor rewrites `cluster.json` atomically on every change.

import Foundation
import Glibc

/// How to start one host's program (already rendered from the topology and the address plan).
public struct HostLaunch: Codable, Sendable, Equatable {
    public var name: String
    public var role: String
    public var executable: String
    public var arguments: [String]
    /// Ports the host serves on; the proxy listens on each at the host's service address.
    public var ports: [Int]
    public var dataDirectory: String
    /// A port whose GET /health answering `"health":"true"` means the host is ready (etcd).
    public var healthPort: Int?
    /// Where on `healthPort` to ask: etcd's `/health` (ready when it says `"health":"true"`) or
    /// the apiserver's `/readyz` (ready when it says `ok`).
    public var healthPath: String?

    public init(name: String, role: String, executable: String, arguments: [String], ports: [Int],
        dataDirectory: String, healthPort: Int?, healthPath: String? = nil)
    {
        self.healthPath = healthPath
        self.name = name
        self.role = role
        self.executable = executable
        self.arguments = arguments
        self.ports = ports
        self.dataDirectory = dataDirectory
        self.healthPort = healthPort
    }
}

public enum HostState: String, Codable, Sendable {
    case starting, running, paused, exited, stopped
}

public struct HostRecord: Codable, Sendable, Equatable {
    public var name: String
    public var role: String
    public var namespace: String
    public var serviceAddress: String
    public var realAddress: String
    public var ports: [Int]
    public var pid: Int32?
    public var state: HostState
    public var restarts: Int
    /// The last exit: "exit N" or "signal N".
    public var lastExit: String?
    public var launch: HostLaunch
}

public struct ProcessRecord: Codable, Sendable, Equatable {
    public var pid: Int32
    /// The command line, to recognise the process later (a PID can be reused after it exits).
    public var command: [String]
}

public struct ClusterRecord: Codable, Sendable, Equatable {
    public var name: String
    public var topology: String
    public var plan: NetworkPlan
    public var hosts: [HostRecord]
    public var proxy: ProcessRecord?
    /// The proxy's control API (in the switch namespace, reachable from the root namespace).
    public var proxyControl: String
    public var supervisor: ProcessRecord?
    /// The supervisor's control API on loopback.
    public var supervisorControl: String?
    public var createdAt: String
    public var state: String

    public func host(_ name: String) -> HostRecord? { hosts.first { $0.name == name } }

    /// The cluster's apiservers: host name and URL (through the proxy), in topology order.
    public var apiservers: [(host: String, url: String)] {
        hosts.filter { $0.role == "apiserver" }.compactMap { host in
            host.launch.healthPort.map { (host.name, "http://\(host.serviceAddress):\($0)") }
        }
    }
}

/// Where clusters live on disk.
public struct ClusterDirectory: Sendable {
    public let path: String

    public static var home: String {
        ProcessInfo.processInfo.environment["FAULTLINE_HOME"] ?? "/tmp/faultline"
    }

    public static func all() -> [ClusterDirectory] {
        let root = home + "/clusters"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { ClusterDirectory(path: root + "/" + $0) }
            .filter { FileManager.default.fileExists(atPath: $0.recordPath) }
    }

    public init(path: String) { self.path = path }

    /// The cluster's name: the directory's last component.
    public var name: String { (path as NSString).lastPathComponent }
    public init(cluster: String) { path = Self.home + "/clusters/" + cluster }

    public var recordPath: String { path + "/cluster.json" }
    public var tracePath: String { path + "/trace.jsonl" }
    public var logsPath: String { path + "/logs" }
    public var kubeconfigPath: String { path + "/kubeconfig" }
    /// Present when `up --merge-kubeconfig` added the cluster to a user's kubeconfig; holds its path.
    public var mergedKubeconfigMarker: String { path + "/kubeconfig-merged-into" }
    public var dataPath: String { path + "/data" }
    public func logPath(_ host: String) -> String { logsPath + "/" + host + ".log" }

    public func load() throws -> ClusterRecord {
        let data = try Data(contentsOf: URL(fileURLWithPath: recordPath))
        return try JSONDecoder().decode(ClusterRecord.self, from: data)
    }

    public func save(_ record: ClusterRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(record)
        let temporary = recordPath + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, recordPath)
    }
}

/// Cluster slots (each owns an address range) claimed atomically: `slots/<n>` is created with
/// O_EXCL and names the cluster, so two `up`s at once never pick the same range. A claim whose
/// cluster directory is gone (a crash between claim and start) is taken over.
public enum SlotClaims {
    public static var root: String { ClusterDirectory.home + "/slots" }

    /// Claims the lowest slot that `isFree` allows and nobody has claimed; nil when none is left.
    public static func claim(for cluster: String, in root: String = root, clusters: String = ClusterDirectory.home + "/clusters",
        isFree: (Int) -> Bool) -> Int?
    {
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for slot in 0..<NetworkPlan.slotsMax where isFree(slot) {
            let path = "\(root)/\(slot)"
            for _ in 0..<2 {
                let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 {
                    _ = cluster.withCString { write(fd, $0, strlen($0)) }
                    close(fd)
                    return slot
                }
                // Claimed. An empty claim is one being written right now; a claim whose cluster
                // directory exists is live. Any other is stale: take it over.
                let owner = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if owner.isEmpty || FileManager.default.fileExists(atPath: clusters + "/" + owner) { break }
                unlink(path)
            }
        }
        return nil
    }

    /// Gives back every slot `cluster` holds.
    public static func release(of cluster: String, in root: String = root) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let path = "\(root)/\(name)"
            if (try? String(contentsOfFile: path, encoding: .utf8)) == cluster { unlink(path) }
        }
    }
}
