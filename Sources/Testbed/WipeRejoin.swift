//! Restarting an etcd member with an empty data directory the way an operator must: remove the
//! old member, add it back, and start it with `--initial-cluster-state existing`.
//!
//! Starting a wiped member under its old identity is amnesia: it has forgotten its votes and its
//! log, which Raft assumes are durable (the leader reads its rejections as stale; real etcd
//! panics, "raft log corrupted, truncated, or lost"). etcd's runtime-reconfiguration guide says
//! to replace such a member, so the testbed does: the member comes back as a new member with a
//! new id, learns the cluster from its peers and catches up from the leader's log or snapshot.

import Base
import EtcdClient
import Foundation
import Net

/// How the member's flags change for a rejoin (pure, so it is tested on its own).
public enum RejoinFlags {
    /// The value after `flag` in `arguments`, if the flag is there.
    public static func value(of flag: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    /// `arguments` with `--initial-cluster` set to `cluster` and `--initial-cluster-state` to
    /// `existing` (each added when missing).
    public static func rewrite(_ arguments: [String], initialCluster cluster: String) -> [String] {
        var result = arguments
        for (flag, value) in [("--initial-cluster", cluster), ("--initial-cluster-state", "existing")] {
            if let index = result.firstIndex(of: flag), index + 1 < result.count {
                result[index + 1] = value
            } else {
                result += [flag, value]
            }
        }
        return result
    }

    /// The `--initial-cluster` value for a membership in which `joiner` (named `name`) was just
    /// added: every member by name (the joiner has none yet), each peer URL as its own entry.
    /// Members that have not started yet and so have no name (another joiner) cannot be named;
    /// they are left out, and etcd then refuses the start, which says so.
    public static func initialCluster(members: [EtcdClient.Member], joiner: UInt64, name: String) -> String {
        members.flatMap { member -> [String] in
            let memberName = member.id == joiner ? name : member.name
            guard !memberName.isEmpty else { return [] }
            return member.peerURLs.map { "\(memberName)=\($0)" }
        }.joined(separator: ",")
    }
}

extension Supervisor {
    /// Waits this long for the rest of the cluster to accept the remove and the add (a cluster
    /// that is electing, or has just lost a member, refuses for a moment with "unhealthy cluster").
    static let membershipChangeTimeout: Nanoseconds = 15 * Time.second

    /// Replaces `host`'s etcd member: remove it (if the cluster still lists it), empty its data
    /// directory, add it back with the same peer URL, and rewrite its flags to join the existing
    /// cluster. The caller starts the process. Throws, with the data left alone, when the rest of
    /// the cluster cannot change its membership (no quorum among the others).
    func replaceMemberForRejoin(_ host: HostRecord, others: [HostRecord]) throws {
        guard let peerURL = RejoinFlags.value(of: "--initial-advertise-peer-urls", in: host.launch.arguments)?
            .split(separator: ",").first.map(String.init)
        else {
            throw SupervisorError("\(host.name) has no --initial-advertise-peer-urls; cannot rejoin it as a new member")
        }
        let endpoints = others.compactMap { other in other.launch.healthPort.map { "http://\(other.serviceAddress):\($0)" } }
        guard !endpoints.isEmpty else {
            throw SupervisorError("no other running etcd member to replace \(host.name) through")
        }
        let client = EtcdClient(endpoints: endpoints, timeout: 2 * Time.second)
        let deadline = MonotonicClock.now() + Self.membershipChangeTimeout
        func retrying<T>(_ what: String, _ body: () throws -> T) throws -> T {
            var lastError = ""
            while MonotonicClock.now() < deadline {
                do { return try body() } catch { lastError = "\(error)" }
                usleep(200_000)
            }
            throw SupervisorError("cannot rejoin \(host.name): \(what) did not succeed within \(Self.membershipChangeTimeout / Time.second) s (last error: \(lastError))")
        }
        let listed = try retrying("member list") { try client.memberList() }
        if let old = listed.first(where: { $0.peerURLs.contains(peerURL) }) {
            _ = try retrying("member remove \(String(old.id, radix: 16))") { () throws -> [EtcdClient.Member] in
                do {
                    return try client.memberRemove(id: old.id)
                } catch {
                    // A retry after a lost answer finds the member already gone.
                    if let now = try? client.memberList(), !now.contains(where: { $0.id == old.id }) { return now }
                    throw error
                }
            }
            traceEvent(["kind": "membership", "host": host.name, "event": "removed", "member": String(old.id, radix: 16)])
        }
        try? FileManager.default.removeItem(atPath: host.launch.dataDirectory)
        let (added, members) = try retrying("member add \(peerURL)") { () throws -> (EtcdClient.Member, [EtcdClient.Member]) in
            do {
                return try client.memberAdd(peerURLs: [peerURL])
            } catch {
                if let now = try? client.memberList(), let joiner = now.first(where: { $0.peerURLs.contains(peerURL) }) {
                    return (joiner, now)
                }
                throw error
            }
        }
        traceEvent(["kind": "membership", "host": host.name, "event": "added", "member": String(added.id, radix: 16)])
        let cluster = RejoinFlags.initialCluster(members: members, joiner: added.id, name: host.name)
        update { record in
            if let index = record.hosts.firstIndex(where: { $0.name == host.name }) {
                record.hosts[index].launch.arguments = RejoinFlags.rewrite(record.hosts[index].launch.arguments, initialCluster: cluster)
            }
        }
    }
}
