//! `faultline apiserver`: the Kubernetes apiserver daemon over any etcd v3 store (ours or real
//! etcd 3.4). Plain HTTP, no authentication: over http kubectl sends no credentials anyway.
//!
//!     faultline apiserver --etcd-servers http://127.0.0.1:2379 --listen 127.0.0.1:6443

import APIServer
import Base
import Dispatch
import Foundation
import Net

enum APIServerCommand {
    static let help = """
        usage: faultline apiserver [--etcd-servers URLS] [--listen HOST:PORT] [--advertise-address HOST:PORT]
                                   [--service-cluster-ip-range CIDR] [--etcd-prefix PREFIX]
                                   [--default-not-ready-toleration-seconds N]
                                   [--default-unreachable-toleration-seconds N]

          --etcd-servers URLS              the store's client URLs, comma-separated (default http://127.0.0.1:2379)
          --listen HOST:PORT               where to serve plain HTTP (default 127.0.0.1:6443); a URL is accepted too
          --advertise-address HOST:PORT    the address discovery tells clients (default: the request's Host)
          --service-cluster-ip-range CIDR  where Service cluster IPs come from (default 10.96.0.0/12)
          --etcd-prefix PREFIX             the key prefix of every object (default /registry)
          --default-not-ready-toleration-seconds N
                                           the tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute
                                           toleration added to every pod that has none (default 300)
          --default-unreachable-toleration-seconds N
                                           the same for node.kubernetes.io/unreachable:NoExecute (default 300):
                                           how long pods stay on a node the controller-manager cannot hear from

        Prints "apiserver ready on http://HOST:PORT" once it serves; SIGTERM or SIGINT stops it.
        Creates the namespaces default, kube-system, kube-public and kube-node-lease if the
        store lacks them, as a real apiserver does at start.
        """

    static func parse(_ arguments: [String]) throws(CommandError) -> APIServerConfiguration {
        var configuration = APIServerConfiguration()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--etcd-servers":
                configuration.etcdServers = try flags.httpURLs(flag, example: "http://127.0.0.1:2379")
            case "--listen":
                var text = try flags.value(flag)
                if text.hasPrefix("http://") { text.removeFirst("http://".count) }
                do { configuration.listen = try Endpoint(parsing: text) } catch {
                    throw CommandError("--listen takes HOST:PORT, e.g. 127.0.0.1:6443 (\(error.message))")
                }
            case "--advertise-address":
                var text = try flags.value(flag)
                if text.hasPrefix("http://") { text.removeFirst("http://".count) }
                configuration.advertise = text
            case "--service-cluster-ip-range": configuration.serviceClusterIPRange = try flags.value(flag)
            case "--etcd-prefix":
                let prefix = try flags.value(flag)
                guard prefix.hasPrefix("/"), !prefix.hasSuffix("/") else {
                    throw CommandError("--etcd-prefix must start with / and not end with one (got '\(prefix)')")
                }
                configuration.etcdPrefix = prefix
            case "--default-not-ready-toleration-seconds":
                configuration.defaultNotReadyTolerationSeconds = try tolerationSeconds(flag, &flags)
            case "--default-unreachable-toleration-seconds":
                configuration.defaultUnreachableTolerationSeconds = try tolerationSeconds(flag, &flags)
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        return configuration
    }

    /// A toleration's seconds: a whole number, 0 or more (0 evicts as soon as the node is tainted).
    static func tolerationSeconds(_ flag: String, _ flags: inout FlagReader) throws(CommandError) -> Int64 {
        let text = try flags.value(flag)
        guard let seconds = Int64(text), seconds >= 0 else {
            throw CommandError("\(flag) takes whole seconds, 0 or more, e.g. 300 (got '\(text)')")
        }
        return seconds
    }

    static func run(_ arguments: [String]) -> Int32 {
        var configuration: APIServerConfiguration
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "apiserver", help: help) {
        case .success(let parsed): configuration = parsed
        case .failure(let exit): return exit.code
        }
        configuration.log = { line in
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            FileHandle.standardError.write(Data("\(stamp) apiserver: \(line)\n".utf8))
        }
        // Before any thread starts, so that every thread inherits the signal handling.
        let stopped = DispatchSemaphore(value: 0)
        let signals = TerminationSignals.signal(stopped)
        let server: APIServer
        do {
            server = try APIServer(configuration: configuration)
            try server.start()
        } catch {
            FileHandle.standardError.write(Data("faultline apiserver: \(error)\n".utf8))
            return 1
        }
        FileHandle.standardOutput.write(Data("apiserver ready on http://\(configuration.listen.host):\(server.port)\n".utf8))
        server.bootstrapInBackground()
        stopped.wait()
        _ = signals
        server.stop()
        return 0
    }
}
