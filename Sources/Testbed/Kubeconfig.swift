//! The kubeconfig `faultline up` writes for a cluster with apiservers: one context per cluster,
//! `faultline-<cluster>`, on the first apiserver, and one per apiserver
//! (`faultline-<cluster>-<host>`) for pointing kubectl at a particular one. Plain HTTP and no
//! user credentials: over http kubectl sends none. `merge` adds the contexts to the user's
//! kubeconfig the way minikube does, through `kubectl config` itself (so a user's file, with
//! whatever it holds, is edited by the tool that owns its format); `unmerge` takes them out.

import Foundation

public enum Kubeconfig {
    /// The file's text for `cluster`, whose apiservers are `servers` (host name, URL) in order.
    public static func render(cluster: String, servers: [(host: String, url: String)]) -> String {
        precondition(!servers.isEmpty, "a kubeconfig needs at least one apiserver")
        let entries = contexts(cluster: cluster, servers: servers)
        var lines = ["apiVersion: v1", "kind: Config", "clusters:"]
        for entry in entries { lines += ["- name: \(entry.name)", "  cluster:", "    server: \(entry.url)"] }
        lines.append("contexts:")
        for entry in entries { lines += ["- name: \(entry.name)", "  context:", "    cluster: \(entry.name)", "    user: \(entry.name)"] }
        lines.append("users:")
        for entry in entries { lines += ["- name: \(entry.name)", "  user: {}"] }
        lines += ["current-context: \(entries[0].name)", "preferences: {}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Context name and server of every context the file holds, the cluster's own first.
    public static func contexts(cluster: String, servers: [(host: String, url: String)]) -> [(name: String, url: String)] {
        var result = [("faultline-\(cluster)", servers[0].url)]
        if servers.count > 1 { result += servers.map { ("faultline-\(cluster)-\($0.host)", $0.url) } }
        return result
    }

    /// The user's kubeconfig: the first path of `$KUBECONFIG`, else `$HOME/.kube/config`.
    public static var userPath: String {
        if let variable = ProcessInfo.processInfo.environment["KUBECONFIG"], let first = variable.split(separator: ":").first {
            return String(first)
        }
        // $HOME first, as kubectl reads it (NSHomeDirectory() asks the password database).
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.kube/config"
    }

    /// Adds the cluster's contexts to `path` and makes the cluster's own current. Returns an
    /// error text when kubectl is missing or refuses.
    public static func merge(cluster: String, servers: [(host: String, url: String)], into path: String) -> String? {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for entry in contexts(cluster: cluster, servers: servers) {
            for command in [["set-cluster", entry.name, "--server=\(entry.url)"], ["set-credentials", entry.name],
                ["set-context", entry.name, "--cluster=\(entry.name)", "--user=\(entry.name)"]]
            {
                if let problem = kubectl(command, path: path) { return problem }
            }
        }
        return kubectl(["use-context", "faultline-\(cluster)"], path: path)
    }

    /// Removes what `merge` added (and the current context, if it was one of them).
    public static func unmerge(cluster: String, servers: [(host: String, url: String)], from path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let names = Set(contexts(cluster: cluster, servers: servers).map(\.name))
        if let current = try? String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .first(where: { $0.hasPrefix("current-context:") }), names.contains(current.dropFirst("current-context:".count).trimmingCharacters(in: .whitespaces))
        {
            _ = kubectl(["unset", "current-context"], path: path)
        }
        for name in names.sorted() {
            _ = kubectl(["delete-context", name], path: path)
            _ = kubectl(["delete-cluster", name], path: path)
            _ = kubectl(["delete-user", name], path: path)
        }
    }

    static func kubectl(_ arguments: [String], path: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The cache beside the file (for ~/.kube/config that is kubectl's default anyway).
        let cache = (path as NSString).deletingLastPathComponent + "/cache"
        process.arguments = ["kubectl", "config"] + arguments + ["--kubeconfig", path, "--cache-dir", cache]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return "cannot run kubectl: \(error)" }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "kubectl config \(arguments.joined(separator: " ")) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}
