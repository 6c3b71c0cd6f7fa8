//! `faultline proxy`: the fault proxy daemon. The orchestrator starts it in the switch namespace
//! and waits for its one line on stdout, then drives it through the control API.
//!
//!     faultline proxy --config /run/faultline/proxy.json --control 10.200.255.1:7000
//!
//! The configuration's schema is in docs/proxy.md; rules are posted to http://CONTROL/rules.

import Base
import Dispatch
import Faults
import Foundation
import Glibc
import Net
import Proxy

enum ProxyCommand {
    static let help = """
        usage: faultline proxy --config FILE --control HOST:PORT [--seed N]

          --config FILE        JSON: {"hosts": {"etcd-1": {"addresses": ["10.200.1.2"],
                               "routes": [{"listen": "10.200.255.1:2379", "target": "10.200.1.2:2379"}],
                               "pod_network": "10.244.1.0/24"}}, "pods": {"ports": [80, 8080], "mark": 1}}
                               (schema in docs/proxy.md; "pods" relays pod traffic, optional)
          --control HOST:PORT  where the control API listens (port 0: any free port)
          --seed N             seed of the draws of rules with a probability (overrides the file's)

        Prints "proxy ready control=HOST:PORT" on stdout once every listener is up; logs to
        stderr; SIGTERM or SIGINT stops it (open connections are reset).
        """

    struct Settings {
        var configPath = ""
        var control = Endpoint(host: "127.0.0.1", port: 0)
        var seed: UInt64?
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        var controlGiven = false
        while let flag = flags.next() {
            switch flag {
            case "--config": settings.configPath = try flags.value(flag)
            case "--control":
                let text = try flags.value(flag)
                do {
                    settings.control = try Endpoint(parsing: text)
                } catch {
                    throw CommandError("--control takes HOST:PORT, e.g. 127.0.0.1:7000 (\(error.message))")
                }
                controlGiven = true
            case "--seed":
                let text = try flags.value(flag)
                guard let seed = UInt64(text) else { throw CommandError("--seed takes a non-negative integer (got '\(text)')") }
                settings.seed = seed
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        guard !settings.configPath.isEmpty else { throw CommandError("--config FILE is required") }
        guard controlGiven else { throw CommandError("--control HOST:PORT is required") }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "proxy", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        let log: @Sendable (String) -> Void = { line in
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            FileHandle.standardError.write(Data("\(stamp) proxy: \(line)\n".utf8))
        }
        var configuration: ProxyConfiguration
        do {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: settings.configPath)))
            configuration = try ProxyConfiguration.parse(bytes)
        } catch let error as ProxyError {
            FileHandle.standardError.write(Data("faultline proxy: \(settings.configPath): \(error.message)\n".utf8))
            return 2
        } catch {
            FileHandle.standardError.write(Data("faultline proxy: cannot read \(settings.configPath): \(error.localizedDescription)\n".utf8))
            return 2
        }
        if let seed = settings.seed { configuration.seed = seed }
        let proxy = FaultProxy(configuration: configuration, log: log)
        let control = ControlServer(proxy: proxy, endpoint: settings.control)
        do {
            try proxy.start()
        } catch {
            log("cannot start: \(error.message)")
            return 1
        }
        do {
            try control.start()
        } catch {
            log("cannot start the control API on \(settings.control): \(error.message)")
            proxy.stop()
            return 1
        }
        log("\(configuration.hosts.count) hosts, \(configuration.routes.count) routes, seed \(configuration.seed)")
        let stopped = DispatchSemaphore(value: 0)
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stopped.signal() }
            source.resume()
            sources.append(source)
        }
        // Written straight to the descriptor (no stdio buffer): the orchestrator waits for it.
        FileHandle.standardOutput.write(Data("proxy ready control=\(settings.control.host):\(control.port)\n".utf8))
        stopped.wait()
        log("stopping")
        control.stop()
        proxy.stop()
        return 0
    }
}
