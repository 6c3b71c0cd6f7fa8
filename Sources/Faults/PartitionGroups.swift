//! The groups of a partition as a user names them on the command line, made explicit against the
//! cluster's hosts. A partition puts every host no group names into one more group of its own
//! (`FaultKind.partition`); that is what a test of "these members against those" wants, but a
//! user who names only the store members of a Kubernetes topology cuts the apiservers and
//! workers off from the whole store too. `--rest-with HOST` puts the unnamed hosts in HOST's
//! group instead, and `describe` shows the split before it is made.

public enum PartitionGroups {
    /// The groups with the hosts nobody named added to `restWith`'s group (unchanged without
    /// `restWith`). Unknown hosts are refused, naming the cluster's hosts.
    public static func resolve(_ groups: [[HostName]], restWith: HostName?, hosts: [HostName]) throws(FaultError) -> [[HostName]] {
        let known = Set(hosts)
        for host in groups.flatMap({ $0 }) + (restWith.map { [$0] } ?? []) where !known.contains(host) {
            throw FaultError("partition: no host '\(host)' in this cluster (its hosts: \(hosts.joined(separator: ", ")))")
        }
        guard let restWith else { return groups }
        guard let target = groups.firstIndex(where: { $0.contains(restWith) }) else {
            throw FaultError("partition: --rest-with \(restWith) names a host in no group; name one of the hosts in --groups")
        }
        guard groups.count >= 2 else {
            throw FaultError("partition: with --rest-with every host is in one group and nothing is cut; name two groups or more (--groups \(restWith)/OTHERS), or drop --rest-with to cut \(groups[0].joined(separator: ",")) off from everyone else")
        }
        let named = Set(groups.flatMap { $0 })
        var resolved = groups
        resolved[target] += hosts.filter { !named.contains($0) }
        return resolved
    }

    /// The hosts no group names: with a partition, they form a group of their own.
    public static func unnamed(_ groups: [[HostName]], hosts: [HostName]) -> [HostName] {
        let named = Set(groups.flatMap { $0 })
        return hosts.filter { !named.contains($0) }
    }

    /// `{etcd-1, etcd-2} | {etcd-3} | {apiserver-1, worker-1}`: the split the rule makes.
    public static func describe(_ groups: [[HostName]], hosts: [HostName]) -> String {
        let rest = unnamed(groups, hosts: hosts)
        return (groups + (rest.isEmpty ? [] : [rest])).map { "{\($0.joined(separator: ", "))}" }.joined(separator: " | ")
    }
}
