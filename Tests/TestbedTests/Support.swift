//! Helpers the Testbed tests share.

import Foundation
import Testbed

/// Runs `arguments` (inside `namespace` when given); exit status and output.
@discardableResult
func run(_ arguments: [String], in namespace: String? = nil) -> (status: Int32, output: String) {
    let process = Process()
    let command = (namespace.map { Namespaces.exec(in: $0) } ?? []) + arguments
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    guard (try? process.run()) != nil else { return (-1, "cannot run \(command)") }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

