//! Creates and removes a cluster's network namespaces and veth links with `ip -batch` (one `ip`
//! process for the root namespace and one per namespace, so a cluster comes up in milliseconds).
//! Only names starting with `fl-` are ever created or removed.

import Net

public struct NamespaceError: Error, CustomStringConvertible {
    public var description: String
}

public enum Namespaces {
    /// Runs `ip [-n NAMESPACE] ARGUMENTS` with `input` on stdin (Net's `IPCommand`); its stdout,
    /// or an error with its stderr.
    @discardableResult
    static func ip(_ arguments: [String], namespace: String? = nil, input: String? = nil) throws(NamespaceError) -> String {
        do {
            return try IPCommand.run(arguments, namespace: namespace, input: input)
        } catch {
            throw NamespaceError(description: error.description)
        }
    }

    /// Builds the plan's namespaces and links; on any failure removes what it made and throws.
    public static func create(_ plan: NetworkPlan) throws(NamespaceError) {
        if plan.loopback { return }
        let clashes = Set(try existing()).intersection(Set([plan.switchNamespace] + plan.hosts.map(plan.namespace)))
        guard clashes.isEmpty else {
            throw NamespaceError(description: "namespaces \(clashes.sorted().joined(separator: ", ")) already exist: is cluster '\(plan.cluster)' up? ('faultline down \(plan.cluster)' removes it)")
        }
        do {
            try ip(["-batch", "-"], input: plan.rootCommands().joined(separator: "\n") + "\n")
            for host in plan.hosts {
                try ip(["-batch", "-"], namespace: plan.namespace(host), input: plan.hostCommands(host).joined(separator: "\n") + "\n")
            }
            try ip(["-batch", "-"], namespace: plan.switchNamespace, input: plan.switchCommands().joined(separator: "\n") + "\n")
            for setting in plan.switchSettings() { try write(setting, in: plan.switchNamespace) }
        } catch {
            destroy(plan)
            throw error
        }
    }

    /// Writes a /proc/sys setting inside a namespace: /proc/sys/net shows the namespace of the
    /// process that opens it, so a shell run by `ip netns exec` writes it (the value on stdin).
    static func write(_ setting: NetworkPlan.KernelSetting, in namespace: String) throws(NamespaceError) {
        precondition(namespace.hasPrefix("fl-"), "refusing to change namespace '\(namespace)': not one of ours")
        precondition(!setting.key.contains(".."), "kernel setting '\(setting.key)' leaves /proc/sys")
        try ip(["netns", "exec", namespace, "/bin/sh", "-c", "cat > \"$0\"", "/proc/sys/" + setting.key], input: setting.value + "\n")
    }

    /// Removes the plan's namespaces and links, whatever state they are in (missing ones are fine).
    public static func destroy(_ plan: NetworkPlan) {
        if plan.loopback { return }
        _ = try? ip(["-force", "-batch", "-"], input: plan.teardownCommands().joined(separator: "\n") + "\n")
    }

    /// Names of the network namespaces that start with `prefix`.
    public static func existing(prefix: String = "fl-") throws(NamespaceError) -> [String] {
        let listing = try ip(["netns", "list"])
        return listing.split(separator: "\n").compactMap { line in
            let name = line.split(separator: " ").first.map(String.init) ?? ""
            return name.hasPrefix(prefix) ? name : nil
        }.sorted()
    }

    /// Removes one namespace by name (only `fl-` ones).
    public static func remove(namespace: String) throws(NamespaceError) {
        precondition(namespace.hasPrefix("fl-"), "refusing to remove namespace '\(namespace)': not one of ours")
        try ip(["netns", "del", namespace])
    }

    /// Command prefix that runs a program inside a namespace.
    public static func exec(in namespace: String?) -> [String] {
        guard let namespace else { return [] }
        return [IPCommand.path ?? "/usr/sbin/ip", "netns", "exec", namespace]
    }
}
