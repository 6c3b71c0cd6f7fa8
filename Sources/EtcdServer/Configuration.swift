//! `faultline etcd`'s flags, with etcd 3.4's names, defaults and meanings, parsed and checked
//! before anything touches the disk or the network. Every refusal names the flag, what was wrong
//! and how to fix it, as etcd does.

import Base
import Raft

public struct EtcdURL: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host:port`. Only plain http with an IPv4 address or `localhost`.
    public static func parse(_ text: String, flag: String) throws(ConfigurationError) -> EtcdURL {
        guard text.hasPrefix("http://") else {
            if text.hasPrefix("https://") {
                throw ConfigurationError(flag, "'\(text)': TLS is not supported; use http://")
            }
            throw ConfigurationError(flag, "'\(text)' is not a URL of the form http://HOST:PORT")
        }
        var rest = text.dropFirst("http://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            throw ConfigurationError(flag, "'\(text)' has no port (expected http://HOST:PORT)")
        }
        var host = String(rest[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else {
            throw ConfigurationError(flag, "'\(text)': host must be an IPv4 address or localhost")
        }
        return EtcdURL(host: host, port: port)
    }

    public var description: String { "http://\(host):\(port)" }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var flag: String
    public var message: String
    public init(_ flag: String, _ message: String) {
        self.flag = flag
        self.message = message
    }
    public var description: String { flag.isEmpty ? message : "\(flag): \(message)" }
}

public struct ClusterMember: Equatable, Sendable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [EtcdURL]
    public var clientURLs: [EtcdURL]
}

public struct Configuration: Sendable {
    public var name = "default"
    public var dataDirectory = ""
    public var listenClientURLs = [EtcdURL(host: "127.0.0.1", port: 2379)]
    public var advertiseClientURLs = [EtcdURL(host: "127.0.0.1", port: 2379)]
    public var listenPeerURLs = [EtcdURL(host: "127.0.0.1", port: 2380)]
    public var initialAdvertisePeerURLs = [EtcdURL(host: "127.0.0.1", port: 2380)]
    /// name → peer URLs, in the order given.
    public var initialCluster: [(name: String, urls: [EtcdURL])] = []
    public var initialClusterState = "new"
    public var initialClusterToken = "etcd-cluster"
    public var heartbeatInterval: Nanoseconds = 100 * Time.millisecond
    public var electionTimeout: Nanoseconds = 1000 * Time.millisecond
    public var snapshotCount: UInt64 = 100_000
    /// How often watchers that asked for progress_notify get a progress message (etcd 3.4:
    /// --experimental-watch-progress-notify-interval, 10 minutes).
    public var watchProgressNotifyInterval: Nanoseconds = 600 * Time.second
    /// A deliberately broken member, for checking the checkers (mutation testing): every read
    /// is served from the local store, as if serializable, without ReadIndex. A member cut off
    /// from the others then answers with stale data. Never for real use.
    public var unsafeLocalReads = false
    /// etcd: --max-request-bytes (1.5 MiB).
    public var maxRequestBytes = 1_572_864
    /// etcd waits this long for a proposal to commit before "request timed out"
    /// (5 s plus twice the election timeout in etcd 3.4).
    public var requestTimeout: Nanoseconds { 5 * Time.second + 2 * electionTimeout }
    /// How long this member may be without a leader before it ends the watch streams whose
    /// clients asked to need one (gRPC metadata `hasleader`, as kube-apiserver's watches do).
    /// etcd 3.4 counts three election timeouts without a leader before cancelling them: a
    /// reconnect costs more than a short wait through an ordinary election.
    public var leaderlessWatchCancel: Nanoseconds { 3 * electionTimeout }

    /// The flags of a one-member cluster on loopback (client port, peer port), which real etcd
    /// takes as they are: what live tests and benches start beside an apiserver.
    public static func singleMemberFlags(name: String, dataDirectory: String, clientPort: UInt16, peerPort: UInt16) -> [String] {
        let client = "http://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
        return ["--name", name, "--data-dir", dataDirectory, "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "\(name)=\(peer)"]
    }

    public static let help = """
        usage: faultline etcd [flags]     (etcd 3.4's flags and defaults)

          --name NAME                          member name (default "default")
          --data-dir DIR                       where the WAL and snapshots live (default "NAME.etcd")
          --listen-client-urls URLS            comma-separated http://IP:PORT (default http://localhost:2379)
          --advertise-client-urls URLS         client URLs told to others (default http://localhost:2379)
          --listen-peer-urls URLS              peer traffic (default http://localhost:2380)
          --initial-advertise-peer-urls URLS   this member's peer URLs (default http://localhost:2380)
          --initial-cluster NAME=URL,...       the founding members (default "NAME=http://localhost:2380")
          --initial-cluster-state new|existing (default new)
          --initial-cluster-token TOKEN        tells clusters apart (default "etcd-cluster")
          --heartbeat-interval MS              (default 100)
          --election-timeout MS                (default 1000)
          --snapshot-count N                   entries between snapshots (default 100000)
          --max-request-bytes N                (default 1572864)
          --experimental-watch-progress-notify-interval DURATION
                                               progress_notify period for watchers (default 10m)
          --unsafe-local-reads                 TEST ONLY: breaks linearizability on purpose (reads
                                               skip ReadIndex), so the chaos checks can be shown to catch it
        """

    public init() {}

    /// Parses etcd-style flags: `--flag value` or `--flag=value`.
    public static func parse(_ arguments: [String]) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        var seen: Set<String> = []
        var initialCluster: String?
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var value: String?
            if let equals = flag.firstIndex(of: "="), flag.hasPrefix("-") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            if flag.hasPrefix("--") == false, flag.hasPrefix("-") { flag = "-" + flag }  // etcd accepts -name too
            guard flag.hasPrefix("--") else {
                throw ConfigurationError("", "unexpected argument '\(flag)' (flags start with --; see 'faultline etcd --help')")
            }
            func take() throws(ConfigurationError) -> String {
                if let value { return value }
                index += 1
                guard index < arguments.count else { throw ConfigurationError(flag, "needs a value") }
                return arguments[index]
            }
            guard seen.insert(flag).inserted else { throw ConfigurationError(flag, "given twice") }
            switch flag {
            case "--name": configuration.name = try take()
            case "--data-dir": configuration.dataDirectory = try take()
            case "--listen-client-urls": configuration.listenClientURLs = try urls(try take(), flag)
            case "--advertise-client-urls": configuration.advertiseClientURLs = try urls(try take(), flag)
            case "--listen-peer-urls": configuration.listenPeerURLs = try urls(try take(), flag)
            case "--initial-advertise-peer-urls": configuration.initialAdvertisePeerURLs = try urls(try take(), flag)
            case "--initial-cluster": initialCluster = try take()
            case "--initial-cluster-state":
                let state = try take()
                guard state == "new" || state == "existing" else {
                    throw ConfigurationError(flag, "'\(state)' is not one of new, existing")
                }
                configuration.initialClusterState = state
            case "--initial-cluster-token": configuration.initialClusterToken = try take()
            case "--heartbeat-interval": configuration.heartbeatInterval = try milliseconds(try take(), flag)
            case "--election-timeout": configuration.electionTimeout = try milliseconds(try take(), flag)
            case "--snapshot-count":
                let text = try take()
                guard let count = UInt64(text), count > 0 else { throw ConfigurationError(flag, "'\(text)' is not a positive whole number") }
                configuration.snapshotCount = count
            case "--max-request-bytes":
                let text = try take()
                guard let bytes = Int(text), bytes > 0, bytes <= 64 << 20 else {
                    throw ConfigurationError(flag, "'\(text)' is not a byte count between 1 and 67108864")
                }
                configuration.maxRequestBytes = bytes
            case "--unsafe-local-reads":
                configuration.unsafeLocalReads = true
            case "--experimental-watch-progress-notify-interval":
                let text = try take()
                guard let interval = Time.parse(text), interval > 0 else {
                    throw ConfigurationError(flag, "'\(text)' is not a positive duration like 10m or 500ms")
                }
                configuration.watchProgressNotifyInterval = interval
            default:
                throw ConfigurationError(flag, "unknown flag (see 'faultline etcd --help')")
            }
            index += 1
        }
        if configuration.dataDirectory.isEmpty { configuration.dataDirectory = configuration.name + ".etcd" }
        if !seen.contains("--advertise-client-urls") && seen.contains("--listen-client-urls") {
            configuration.advertiseClientURLs = configuration.listenClientURLs
        }
        configuration.initialCluster = try parseCluster(
            initialCluster ?? "\(configuration.name)=\(configuration.initialAdvertisePeerURLs.map(\.description).joined(separator: ","))")
        try configuration.validate()
        return configuration
    }

    static func urls(_ text: String, _ flag: String) throws(ConfigurationError) -> [EtcdURL] {
        let parts = text.split(separator: ",").map(String.init)
        guard !parts.isEmpty else { throw ConfigurationError(flag, "needs at least one URL") }
        var result: [EtcdURL] = []
        for part in parts { result.append(try EtcdURL.parse(part, flag: flag)) }
        return result
    }

    static func milliseconds(_ text: String, _ flag: String) throws(ConfigurationError) -> Nanoseconds {
        guard let value = Int64(text), value > 0, value <= 600_000 else {
            throw ConfigurationError(flag, "'\(text)' is not a whole number of milliseconds between 1 and 600000")
        }
        return value * Time.millisecond
    }

    static func parseCluster(_ text: String) throws(ConfigurationError) -> [(name: String, urls: [EtcdURL])] {
        let flag = "--initial-cluster"
        var members: [(name: String, urls: [EtcdURL])] = []
        for part in text.split(separator: ",") {
            guard let equals = part.firstIndex(of: "="), equals != part.startIndex else {
                throw ConfigurationError(flag, "'\(part)' is not NAME=URL")
            }
            let name = String(part[..<equals])
            let url = try EtcdURL.parse(String(part[part.index(after: equals)...]), flag: flag)
            if let existing = members.firstIndex(where: { $0.name == name }) {
                members[existing].urls.append(url)
            } else {
                members.append((name, [url]))
            }
        }
        guard !members.isEmpty else { throw ConfigurationError(flag, "is empty") }
        return members
    }

    func validate() throws(ConfigurationError) {
        guard electionTimeout >= 5 * heartbeatInterval else {
            throw ConfigurationError("--election-timeout",
                "\(electionTimeout / Time.millisecond)ms should be at least 5 times --heartbeat-interval (\(heartbeatInterval / Time.millisecond)ms)")
        }
        var allURLs: [EtcdURL: String] = [:]
        for member in initialCluster {
            for url in member.urls {
                if let other = allURLs[url], other != member.name {
                    throw ConfigurationError("--initial-cluster", "peer URL \(url) is given to both \(other) and \(member.name)")
                }
                allURLs[url] = member.name
            }
        }
        guard let mine = initialCluster.first(where: { $0.name == name }) else {
            throw ConfigurationError("--initial-cluster",
                "has no member named '\(name)' (--name); add \(name)=\(initialAdvertisePeerURLs[0]) to it")
        }
        guard Set(mine.urls) == Set(initialAdvertisePeerURLs) else {
            throw ConfigurationError("--initial-cluster",
                "gives \(name)=\(mine.urls.map(\.description).joined(separator: ",")) but --initial-advertise-peer-urls is \(initialAdvertisePeerURLs.map(\.description).joined(separator: ",")); they must match")
        }
        for url in listenPeerURLs where url.host != "0.0.0.0" && !initialAdvertisePeerURLs.contains(where: { $0.port == url.port }) {
            throw ConfigurationError("--listen-peer-urls",
                "\(url) does not match any --initial-advertise-peer-urls port; peers could not reach this member")
        }
    }

    /// The founding members with their ids: etcd derives ids from peer URLs and the token, so
    /// every member computes the same ids without talking.
    public var members: [ClusterMember] {
        initialCluster.map { entry in
            ClusterMember(id: Self.memberID(peerURLs: entry.urls, token: initialClusterToken), name: entry.name,
                peerURLs: entry.urls, clientURLs: entry.name == name ? advertiseClientURLs : [])
        }
    }

    public var memberID: UInt64 { Self.memberID(peerURLs: initialAdvertisePeerURLs, token: initialClusterToken) }

    public var clusterID: UInt64 {
        var hash = FNV1a()
        for id in members.map(\.id).sorted() { hash.combine(id) }
        hash.combine(initialClusterToken)
        return hash.value
    }

    /// `addedAt` (Unix seconds) is set for members added to a running cluster, as etcd does, so
    /// a member re-added at the same URLs after a removal gets a new id.
    static func memberID(peerURLs: [EtcdURL], token: String, addedAt: Int64? = nil) -> UInt64 {
        memberID(peerURLs: peerURLs.map(\.description), token: token, addedAt: addedAt)
    }

    static func memberID(peerURLs: [String], token: String, addedAt: Int64? = nil) -> UInt64 {
        var hash = FNV1a()
        for url in peerURLs.sorted() { hash.combine(url) }
        hash.combine(token)
        if let addedAt { hash.combine(String(addedAt)) }
        // 0 is Raft's "nobody"; the top bit is kept clear so ids print the same signed or not.
        let id = hash.value & 0x7fff_ffff_ffff_ffff
        return id == 0 ? 1 : id
    }

    /// Raft's timing in ticks of one heartbeat interval, as etcd does.
    public func raftConfig(id: UInt64, seed: UInt64) -> Raft.Config {
        var config = Raft.Config(id: id, seed: seed)
        config.heartbeatTicks = 1
        config.electionTicks = Int(electionTimeout / heartbeatInterval)
        config.preVote = true
        config.checkQuorum = true
        return config
    }
}
