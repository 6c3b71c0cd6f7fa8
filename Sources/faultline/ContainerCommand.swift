//! `faultline container`: one container of a pod, as a kubelet in process mode starts it. The
//! image's program is built in (see KubeComponents/Containers/BuiltinContainer.swift); the
//! kubelet passes the pod's name and IP, the container's ports and its command.
//!
//!     faultline container --program echo --pod-name web-1 --pod-ip 127.244.1.2 --port 8080
//!     faultline container --program sleeper -- sh -c 'echo hi; sleep 5'

import Base
import Foundation
import KubeComponents

enum ContainerCommand {
    static let help = """
        usage: faultline container --program echo|sleeper|crasher [options] [-- COMMAND ARGS...]

          --program P        echo (an HTTP server answering with the pod's name), sleeper (runs COMMAND,
                             or waits for SIGTERM), crasher (exits with CRASH_EXIT_CODE, default 1,
                             after CRASH_AFTER, default 1s)
          --pod-name NAME    what echo answers (default: $POD_NAME)
          --pod-ip ADDRESS   where echo listens (default: $POD_IP, else 127.0.0.1)
          --port N           a port echo listens on; repeat for more (default 80)
          --exit-file PATH   where the exit status is written before exiting

        Normally started by `faultline kubelet --runtime process`, not by hand.
        """

    static func run(_ arguments: [String]) -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let parsed = parsedOrExitCode({ () throws(CommandError) -> BuiltinContainerOptions in
            var program: BuiltinContainerOptions.Program?
            var options = BuiltinContainerOptions(program: .sleeper, podName: environment["POD_NAME"] ?? "",
                podIP: environment["POD_IP"] ?? "127.0.0.1")
            var flags = FlagReader(arguments)
            while let flag = flags.next() {
                switch flag {
                case "--program":
                    let text = try flags.value(flag)
                    guard let known = BuiltinContainerOptions.Program(rawValue: text) else {
                        throw CommandError("--program takes \(BuiltinContainerOptions.Program.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(text)')")
                    }
                    program = known
                case "--pod-name": options.podName = try flags.value(flag)
                case "--pod-ip": options.podIP = try flags.value(flag)
                case "--port": options.ports.append(UInt16(try flags.integer(flag, 1...65535)))
                case "--exit-file": options.exitFile = try flags.value(flag)
                case "--":
                    while let word = flags.next() { options.command.append(word) }
                case "-h", "--help": throw CommandError("")
                default: throw CommandError("unknown option '\(flag)'")
                }
            }
            guard let program else { throw CommandError("--program is required") }
            options.program = program
            if let text = environment["CRASH_AFTER"] {
                guard let after = Time.parse(text) else { throw CommandError("CRASH_AFTER takes a duration like 2s (got '\(text)')") }
                options.crashAfter = after
            }
            if let text = environment["CRASH_EXIT_CODE"] {
                guard let code = Int32(text), (0...255).contains(code) else { throw CommandError("CRASH_EXIT_CODE takes 0 to 255 (got '\(text)')") }
                options.crashExitCode = code
            }
            return options
        }, command: "container", help: help)
        switch parsed {
        case .failure(let exit): return exit.code
        case .success(let options): return BuiltinContainer.run(options)
        }
    }
}
