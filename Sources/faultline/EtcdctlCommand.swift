//! `faultline etcdctl`: the everyday etcdctl verbs over the v3 JSON API, with etcdctl's output
//! formats (`-w simple|json|table`), so scripts written for etcdctl read ours.
//!
//!     faultline etcdctl --endpoints http://127.0.0.1:2379 put foo bar
//!     faultline etcdctl get foo --prefix -w json
//!     faultline etcdctl endpoint status -w table

import Base
import EtcdClient
import Foundation
import Net
import Wire

enum EtcdctlCommand {
    static let help = """
        usage: faultline etcdctl [--endpoints URLS] [-w simple|json|table] VERB ...

          put KEY VALUE [--lease ID]          write a key
          get KEY [--prefix] [--rev R] [--limit N] [--keys-only] [--print-value-only] [--serializable]
          del KEY [--prefix]                  delete a key or every key with the prefix
          watch KEY [--prefix] [--rev R] [--prev-kv]   print events until interrupted
          lease grant TTL | revoke ID | keepalive ID [--once] | timetolive ID [--keys] | list
          member list | add NAME --peer-urls URLS [--learner] | remove ID | promote ID
                 | update ID --peer-urls URLS   (IDs in hex, as member list prints them)
          endpoint status | health            one line (or row) per endpoint

          --endpoints URLS   comma-separated (default http://127.0.0.1:2379, or $ETCDCTL_ENDPOINTS)
          -w, --write-out    simple (default), json or table
          --command-timeout  per request (default 5s)
        """

    struct Options {
        var endpoints = [ProcessInfo.processInfo.environment["ETCDCTL_ENDPOINTS"] ?? "http://127.0.0.1:2379"]
        var format = "simple"
        var timeout: Nanoseconds = 5 * Time.second
        var words: [String] = []
        var flags: [String: String] = [:]
    }

    static let valueFlags: Set<String> = ["--rev", "--limit", "--lease", "--endpoints", "-w", "--write-out", "--command-timeout", "--peer-urls"]
    static let booleanFlags: Set<String> = ["--prefix", "--keys-only", "--print-value-only", "--serializable", "--once", "--keys", "--prev-kv", "--count-only", "--learner"]

    static func parse(_ arguments: [String]) throws(CommandError) -> Options {
        var options = Options()
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            var inlineValue: String?
            if argument.hasPrefix("-"), let equals = argument.firstIndex(of: "=") {
                inlineValue = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            if valueFlags.contains(argument) {
                let value: String
                if let inlineValue { value = inlineValue } else {
                    index += 1
                    guard index < arguments.count else { throw CommandError("\(argument) needs a value") }
                    value = arguments[index]
                }
                switch argument {
                case "--endpoints": options.endpoints = value.split(separator: ",").map(String.init)
                case "-w", "--write-out":
                    guard ["simple", "json", "table"].contains(value) else { throw CommandError("-w takes simple, json or table (got '\(value)')") }
                    options.format = value
                case "--command-timeout":
                    guard let timeout = Time.parse(value), timeout > 0 else { throw CommandError("--command-timeout takes a duration like 5s (got '\(value)')") }
                    options.timeout = timeout
                default: options.flags[argument] = value
                }
            } else if booleanFlags.contains(argument) {
                options.flags[argument] = inlineValue ?? "true"
            } else if argument == "-h" || argument == "--help" {
                throw CommandError("")
            } else if argument.hasPrefix("--") {
                throw CommandError("unknown flag '\(argument)'")
            } else {
                options.words.append(argument)
            }
            index += 1
        }
        return options
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: Options
        do {
            options = try parse(arguments)
        } catch {
            if error.message.isEmpty {
                print(help)
                return 0
            }
            return fail(error.message + "\n\n" + help)
        }
        let client = EtcdClient(endpoints: options.endpoints, timeout: options.timeout)
        do {
            return try dispatch(options, client)
        } catch let error as CommandError {
            return fail(error.message)
        } catch {
            return fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        return 1
    }

    static func int64(_ options: Options, _ flag: String) throws -> Int64 {
        guard let text = options.flags[flag] else { return 0 }
        guard let value = Int64(text) else { throw CommandError("\(flag) takes a whole number (got '\(text)')") }
        return value
    }

    static func leaseID(_ text: String) throws -> Int64 {
        // etcdctl prints lease ids in hex and reads them in hex.
        guard let value = UInt64(text, radix: 16) else { throw CommandError("'\(text)' is not a lease id (hex, as 'lease grant' prints it)") }
        return Int64(bitPattern: value)
    }

    static func dispatch(_ options: Options, _ client: EtcdClient) throws -> Int32 {
        let words = options.words
        guard let verb = words.first else { throw CommandError("no command given\n\n" + help) }
        func argument(_ position: Int, _ name: String) throws -> String {
            guard position < words.count else { throw CommandError("\(verb) needs \(name)") }
            return words[position]
        }
        switch verb {
        case "put":
            let key = try argument(1, "a key")
            let value = try argument(2, "a value")
            let lease = options.flags["--lease"].map { try? leaseID($0) } ?? nil
            if options.flags["--lease"] != nil && lease == nil { throw CommandError("--lease takes a hex lease id") }
            let revision = try client.put(key, value, lease: lease ?? 0)
            if options.format == "json" { print("{\"header\":{\"revision\":\(revision)}}") } else { print("OK") }
        case "get":
            let key = try argument(1, "a key")
            let result = try client.get(key, prefix: options.flags["--prefix"] != nil, revision: try int64(options, "--rev"),
                limit: try int64(options, "--limit"), serializable: options.flags["--serializable"] != nil,
                keysOnly: options.flags["--keys-only"] != nil, countOnly: options.flags["--count-only"] != nil)
            switch options.format {
            case "json":
                let kvs = result.kvs.map { kv -> String in
                    "{\"key\":\"\(Data(kv.key).base64EncodedString())\",\"create_revision\":\(kv.createRevision),\"mod_revision\":\(kv.modRevision),\"version\":\(kv.version),\"value\":\"\(Data(kv.value).base64EncodedString())\"\(kv.lease != 0 ? ",\"lease\":\(kv.lease)" : "")}"
                }
                print("{\"header\":{\"cluster_id\":\(result.header.clusterID),\"member_id\":\(result.header.memberID),\"revision\":\(result.header.revision),\"raft_term\":\(result.header.raftTerm)},\"kvs\":[\(kvs.joined(separator: ","))],\"count\":\(result.count)\(result.more ? ",\"more\":true" : "")}")
            case "table":
                printTable(["KEY", "VALUE"], result.kvs.map { [$0.keyString, $0.valueString] })
            default:
                for kv in result.kvs {
                    if options.flags["--print-value-only"] == nil { print(kv.keyString) }
                    if options.flags["--keys-only"] == nil { print(kv.valueString) }
                }
            }
        case "del":
            let deleted = try client.delete(try argument(1, "a key"), prefix: options.flags["--prefix"] != nil)
            print(deleted)
        case "lease":
            return try lease(words, options, client)
        case "member":
            return try member(words, options, client)
        case "endpoint":
            return try endpoint(words, options)
        case "watch":
            let key = try argument(1, "a key")
            let reason = try client.watch(key, prefix: options.flags["--prefix"] != nil, revision: try int64(options, "--rev"),
                prevKV: options.flags["--prev-kv"] != nil) { events in
                // etcdctl's simple format: the event type, then key and value lines; written
                // unbuffered so a pipe sees each event as it happens.
                var text = ""
                for event in events {
                    text += (event.isDelete ? "DELETE" : "PUT") + "\n" + event.kv.keyString + "\n"
                    if !event.isDelete { text += event.kv.valueString + "\n" }
                    if let previous = event.previous { text += previous.keyString + "\n" + previous.valueString + "\n" }
                }
                FileHandle.standardOutput.write(Data(text.utf8))
                return true
            }
            if let reason { throw CommandError("watch was canceled (\(reason))") }
        default:
            throw CommandError("unknown command '\(verb)'\n\n" + help)
        }
        return 0
    }

    static func member(_ words: [String], _ options: Options, _ client: EtcdClient) throws -> Int32 {
        let usage = "member takes: list, add NAME --peer-urls URLS [--learner], remove ID, promote ID, update ID --peer-urls URLS"
        guard words.count >= 2 else { throw CommandError(usage) }
        func memberID(_ text: String) throws -> UInt64 {
            guard let id = UInt64(text, radix: 16), id != 0 else {
                throw CommandError("'\(text)' is not a member ID (hexadecimal, as 'member list' prints it)")
            }
            return id
        }
        func peerURLs() throws -> [String] {
            guard let urls = options.flags["--peer-urls"], !urls.isEmpty else { throw CommandError("--peer-urls is required (http://HOST:PORT[,...])") }
            return urls.split(separator: ",").map(String.init)
        }
        switch (words[1], words.count) {
        case ("list", 2):
            printMembers(try client.memberList(), options)
        case ("add", 3):
            let name = words[2]
            let urls = try peerURLs()
            let isLearner = options.flags["--learner"] != nil
            let (added, members) = try client.memberAdd(peerURLs: urls, isLearner: isLearner)
            // etcdctl prints what the new member's flags must be: every member's peer URLs, this
            // one under the name given here (it has not started, so the cluster does not know it).
            let cluster = members.flatMap { member in
                member.peerURLs.map { "\(member.id == added.id ? name : member.name)=\($0)" }
            }
            print("Member \(String(added.id, radix: 16)) added to cluster\n")
            print("ETCD_NAME=\"\(name)\"")
            print("ETCD_INITIAL_CLUSTER=\"\(cluster.joined(separator: ","))\"")
            print("ETCD_INITIAL_ADVERTISE_PEER_URLS=\"\(urls.joined(separator: ","))\"")
            print("ETCD_INITIAL_CLUSTER_STATE=\"existing\"")
        case ("remove", 3):
            _ = try client.memberRemove(id: try memberID(words[2]))
            print("Member \(words[2]) removed from cluster")
        case ("promote", 3):
            _ = try client.memberPromote(id: try memberID(words[2]))
            print("Member \(words[2]) promoted in cluster")
        case ("update", 3):
            _ = try client.memberUpdate(id: try memberID(words[2]), peerURLs: try peerURLs())
            print("Member \(words[2]) updated in cluster")
        default:
            throw CommandError(usage)
        }
        return 0
    }

    static func printMembers(_ members: [EtcdClient.Member], _ options: Options) {
        let rows = members.map { member in
            [String(member.id, radix: 16), member.name.isEmpty ? "unstarted" : "started", member.name,
                member.peerURLs.joined(separator: ","), member.clientURLs.joined(separator: ","), String(member.isLearner)]
        }
        switch options.format {
        case "table": printTable(["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"], rows)
        case "json":
            let list = members.map { member in
                let peers = member.peerURLs.map { "\"\($0)\"" }.joined(separator: ",")
                let clients = member.clientURLs.map { "\"\($0)\"" }.joined(separator: ",")
                return "{\"ID\":\(member.id),\"name\":\"\(member.name)\",\"peerURLs\":[\(peers)],\"clientURLs\":[\(clients)]\(member.isLearner ? ",\"isLearner\":true" : "")}"
            }
            print("{\"members\":[\(list.joined(separator: ","))]}")
        default: for row in rows { print(row.joined(separator: ", ")) }
        }
    }

    static func lease(_ words: [String], _ options: Options, _ client: EtcdClient) throws -> Int32 {
        guard words.count >= 2 else { throw CommandError("lease takes: grant TTL, revoke ID, keepalive ID, timetolive ID, list") }
        switch words[1] {
        case "grant":
            guard words.count == 3, let ttl = Int64(words[2]), ttl > 0 else { throw CommandError("lease grant takes a TTL in seconds") }
            let granted = try client.leaseGrant(ttl: ttl)
            print("lease \(String(UInt64(bitPattern: granted.id), radix: 16)) granted with TTL(\(granted.ttl)s)")
        case "revoke":
            guard words.count == 3 else { throw CommandError("lease revoke takes a lease id") }
            try client.leaseRevoke(try leaseID(words[2]))
            print("lease \(words[2]) revoked")
        case "timetolive":
            guard words.count == 3 else { throw CommandError("lease timetolive takes a lease id") }
            let answer = try client.leaseTimeToLive(try leaseID(words[2]), keys: options.flags["--keys"] != nil)
            if answer.ttl == -1 {
                print("lease \(words[2]) already expired")
            } else {
                var line = "lease \(words[2]) granted with TTL(\(answer.granted)s), remaining(\(answer.ttl)s)"
                if options.flags["--keys"] != nil { line += ", attached keys(\(answer.keys))" }
                print(line)
            }
        case "keepalive":
            guard words.count == 3 else { throw CommandError("lease keepalive takes a lease id") }
            let id = try leaseID(words[2])
            repeat {
                let ttl = try client.leaseKeepAliveOnce(id)
                guard ttl > 0 else {
                    print("lease \(words[2]) expired or revoked.")
                    return 1
                }
                print("lease \(words[2]) keepalived with TTL(\(ttl))")
                if options.flags["--once"] != nil { break }
                // etcdctl renews at a third of the TTL.
                Thread.sleep(forTimeInterval: max(0.5, Double(ttl) / 3))
            } while true
        case "list":
            let response = try client.call("/v3/lease/leases", [:])
            var ids: [String] = []
            if case .array(let leases) = response["leases"] {
                for case .object(let lease) in leases {
                    if case .string(let text) = lease["ID"], let id = Int64(text) { ids.append(String(UInt64(bitPattern: id), radix: 16)) }
                }
            }
            print("found \(ids.count) leases")
            for id in ids { print(id) }
        default:
            throw CommandError("unknown lease command '\(words[1])'")
        }
        return 0
    }

    static func endpoint(_ words: [String], _ options: Options) throws -> Int32 {
        guard words.count == 2, words[1] == "status" || words[1] == "health" else {
            throw CommandError("endpoint takes: status, health")
        }
        var failures = 0
        var rows: [[String]] = []
        var jsonItems: [String] = []
        for endpoint in options.endpoints {
            let client = EtcdClient(endpoints: [endpoint], timeout: options.timeout)
            if words[1] == "health" {
                let began = MonotonicClock.now()
                do {
                    _ = try client.get("health", serializable: false)
                    let took = Time.describe(MonotonicClock.now() - began)
                    rows.append([endpoint, "true", took, ""])
                    jsonItems.append("{\"endpoint\":\"\(endpoint)\",\"health\":true,\"took\":\"\(took)\"}")
                    if options.format == "simple" { print("\(endpoint) is healthy: successfully committed proposal: took = \(took)") }
                } catch {
                    failures += 1
                    rows.append([endpoint, "false", "", "\(error)"])
                    jsonItems.append("{\"endpoint\":\"\(endpoint)\",\"health\":false,\"error\":\(BenchKVCommand.quoted("\(error)"))}")
                    if options.format == "simple" { print("\(endpoint) is unhealthy: failed to commit proposal: \(error)") }
                }
            } else {
                do {
                    let status = try client.status()
                    let isLeader = status.leader == status.header.memberID
                    rows.append([endpoint, String(status.header.memberID, radix: 16), status.version, "\(status.dbSize)",
                        "\(isLeader)", "\(status.raftTerm)", "\(status.raftIndex)", "\(status.raftAppliedIndex)"])
                    jsonItems.append("{\"Endpoint\":\"\(endpoint)\",\"Status\":{\"header\":{\"cluster_id\":\(status.header.clusterID),\"member_id\":\(status.header.memberID),\"revision\":\(status.header.revision),\"raft_term\":\(status.header.raftTerm)},\"version\":\"\(status.version)\",\"dbSize\":\(status.dbSize),\"leader\":\(status.leader),\"raftIndex\":\(status.raftIndex),\"raftTerm\":\(status.raftTerm),\"raftAppliedIndex\":\(status.raftAppliedIndex)}}")
                    if options.format == "simple" { print(rows.last!.joined(separator: ", ")) }
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("Failed to get the status of endpoint \(endpoint) (\(error))\n".utf8))
                }
            }
        }
        switch options.format {
        case "json": print("[" + jsonItems.joined(separator: ",") + "]")
        case "table":
            if words[1] == "health" {
                printTable(["ENDPOINT", "HEALTH", "TOOK", "ERROR"], rows)
            } else {
                printTable(["ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX"], rows)
            }
        default: break
        }
        return failures == 0 ? 0 : 1
    }

    /// etcdctl's table style: +---+ borders, centred headers.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        let border = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined()
        func line(_ cells: [String], centred: Bool) -> String {
            "|" + zip(cells, widths).map { cell, width in
                let space = width - cell.count
                let left = centred ? space / 2 : 0
                return " " + String(repeating: " ", count: left) + cell + String(repeating: " ", count: space - left) + " |"
            }.joined()
        }
        print(border)
        print(line(header, centred: true))
        print(border)
        for row in rows { print(line(row, centred: false)) }
        print(border)
    }
}
