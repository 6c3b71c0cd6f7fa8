//! A store and an apiserver in reach of real kubectl, on loopback: the store is either our
//! member in this process or real etcd 3.4 as a child process; the apiserver runs in this
//! process; kubectl runs with a fresh HOME and cache directory (its discovery cache would hide
//! a server that changed) and a kubeconfig of its own.

import APIServer
import Base
import EtcdServer
import Foundation
import Net
import Testing

enum StoreKind: String, CustomStringConvertible, CaseIterable {
    case builtin, etcd
    var description: String { rawValue }
}

final class KubeHarness {
    let directory: String
    let apiPort: UInt16
    private var member: EtcdMember?
    private var etcd: Process?
    private var server: APIServer?

    /// Ports: store client `base`, peer `base + 1`, apiserver `base + 2`. `configure` may change
    /// the apiserver's settings (not its listen address or store).
    init(store: StoreKind, basePort: UInt16, configure: (inout APIServerConfiguration) -> Void = { _ in }) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl") else {
            throw HarnessError("kubectl is not installed (/usr/bin/kubectl); these tests drive the real client")
        }
        // The port in the name too: two harnesses of one store kind in one process (tests run in
        // parallel) must not share a directory, a store or a kubeconfig.
        directory = NSTemporaryDirectory() + "fl-kube-\(store)-\(basePort)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/home", withIntermediateDirectories: true)
        apiPort = basePort + 2
        let flags = Configuration.singleMemberFlags(name: "s", dataDirectory: directory + "/store", clientPort: basePort, peerPort: basePort + 1)
        switch store {
        case .builtin:
            let member = try EtcdMember(configuration: try Configuration.parse(flags), log: { _ in })
            try member.start()
            self.member = member
        case .etcd:
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
                throw HarnessError("real etcd is not installed (/usr/bin/etcd); run Scripts/setup")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
            process.arguments = flags
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            etcd = process
        }
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: "127.0.0.1", port: apiPort)
        configuration.etcdServers = ["http://127.0.0.1:\(basePort)"]
        configuration.log = { _ in }
        configure(&configuration)
        let server = try APIServer(configuration: configuration)
        try server.start()
        server.bootstrapInBackground()
        self.server = server
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: t
              cluster:
                server: http://127.0.0.1:\(apiPort)
            contexts:
            - name: t
              context:
                cluster: t
                user: t
            users:
            - name: t
              user: {}
            current-context: t
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        try waitReady()
    }

    var kubeconfig: String { directory + "/kubeconfig" }

    private func waitReady() throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let client = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: apiPort), connectTimeout: 200 * Time.millisecond)
            if let answer = try? client.get("/readyz", timeout: Time.second), answer.status == 200 { return }
            usleep(50_000)
        }
        throw HarnessError("the apiserver was not ready within 20 s")
    }

    var kubectl: Kubectl { Kubectl(kubeconfig: kubeconfig, home: directory + "/home", cacheDirectory: directory + "/cache") }

    /// A raw request to the apiserver (for what kubectl never sends).
    func raw(_ method: String, _ path: String, body: String, contentType: String = "application/json") throws -> (status: Int, text: String) {
        let client = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: apiPort))
        let response = try client.request(method, path, body: Array(body.utf8), timeout: 5 * Time.second, contentType: contentType)
        return (response.status, response.text)
    }

    func stop() {
        server?.stop()
        member?.stop()
        if let etcd {
            etcd.terminate()
            etcd.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Real kubectl with a kubeconfig, a HOME and a cache directory of its own.
struct Kubectl {
    let kubeconfig: String
    let home: String
    let cacheDirectory: String
    var context: String?

    init(kubeconfig: String, home: String, cacheDirectory: String, context: String? = nil) {
        self.kubeconfig = kubeconfig
        self.home = home
        self.cacheDirectory = cacheDirectory
        self.context = context
    }

    /// The same client on another context of its kubeconfig.
    func on(context: String) -> Kubectl { Kubectl(kubeconfig: kubeconfig, home: home, cacheDirectory: cacheDirectory, context: context) }

    var commonArguments: [String] {
        ["--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory] + (context.map { ["--context", $0] } ?? [])
    }

    /// Runs kubectl; stdout and stderr apart, and the exit status.
    @discardableResult
    func callAsFunction(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        process.arguments = arguments + commonArguments
        process.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let outText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, outText, errText)
    }

    /// kubectl that must succeed; its stdout.
    func ok(_ arguments: String..., input: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try self(arguments, input: input)
        #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")) exited \(result.status): \(result.err)", sourceLocation: sourceLocation)
        return result.out
    }
}
