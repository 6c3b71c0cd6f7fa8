//! faultline: one executable, one subcommand per daemon or testbed verb. This file only
//! dispatches; each command lives in its own file beside the module it drives.
//!
//! Run `faultline help` for the list.

import Foundation

let usage = """
    usage: faultline <command> [options]

    commands:
      sim      run the deterministic simulator (one seed, a sweep, a determinism check)
      check    check a history file for linearizability
      bench    benchmarks (bench check: the linearizability checker's speed)
      help     this text

    Run 'faultline <command> --help' for a command's options.
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
arguments.removeFirst()
switch command {
case "sim":
    exit(SimCommand.run(arguments))
case "check":
    exit(CheckCommand.run(arguments))
case "bench":
    guard arguments.first == "check" else {
        FileHandle.standardError.write(Data("faultline bench: unknown benchmark '\(arguments.first ?? "")' (available: check)\n".utf8))
        exit(2)
    }
    exit(BenchCheckCommand.run(Array(arguments.dropFirst())))
case "help", "-h", "--help":
    print(usage)
    exit(0)
default:
    FileHandle.standardError.write(Data("faultline: unknown command '\(command)'\n\n\(usage)\n".utf8))
    exit(2)
}
