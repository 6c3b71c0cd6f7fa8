//! The kubeconfig `up` writes, and merging it into a user's file and out again (through kubectl).

import Foundation
import Testbed
import Testing

private let servers = [(host: "apiserver-1", url: "http://10.200.255.4:6443"), (host: "apiserver-2", url: "http://10.200.255.5:6443")]

private func kubectlConfig(_ arguments: [String], _ path: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
    process.arguments = ["config"] + arguments + ["--kubeconfig", path, "--cache-dir", (path as NSString).deletingLastPathComponent + "/cache"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try? process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct KubeconfigTests {
    @Test func oneContextPerClusterAndOnePerApiserver() {
        #expect(Kubeconfig.contexts(cluster: "c", servers: servers).map(\.name) == ["faultline-c", "faultline-c-apiserver-1", "faultline-c-apiserver-2"])
        #expect(Kubeconfig.contexts(cluster: "c", servers: Array(servers.prefix(1))).map(\.name) == ["faultline-c"])
        let text = Kubeconfig.render(cluster: "c", servers: servers)
        #expect(text.contains("current-context: faultline-c\n") && text.contains("    server: http://10.200.255.5:6443\n"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl"), "needs kubectl"))
    func mergeAndUnmergeLeaveOtherContextsAlone() throws {
        let path = NSTemporaryDirectory() + "fl-kubeconfig-\(getpid())/config"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: \"http://127.0.0.9:1\"}\ncontexts:\n- name: other\n  context: {cluster: other, user: other}\nusers:\n- name: other\n  user: {}\ncurrent-context: other\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Kubeconfig.merge(cluster: "c", servers: servers, into: path) == nil)
        #expect(kubectlConfig(["current-context"], path) == "faultline-c")
        #expect(kubectlConfig(["get-contexts", "-o", "name"], path).split(separator: "\n").sorted()
            == ["faultline-c", "faultline-c-apiserver-1", "faultline-c-apiserver-2", "other"])
        Kubeconfig.unmerge(cluster: "c", servers: servers, from: path)
        #expect(kubectlConfig(["get-contexts", "-o", "name"], path) == "other")
        #expect(kubectlConfig(["current-context"], path).isEmpty, "the removed context was current; nothing should be")
    }
}
