//! The pid files a process-mode kubelet keeps for its containers (`ROOT/containers/*.pid`, one
//! per running container, removed when it ends), and stopping what they name. Two parties stop
//! containers that outlived their kubelet: the next kubelet on the node, and `faultline down`.
//! Each stops only pids whose command line is still `faultline container …`, so a pid the
//! kernel has since given to another process is left alone.

import Foundation
import Glibc

public enum ContainerPidFiles {
    public static let suffix = ".pid"

    /// The directory under a kubelet's root directory that holds the pid files.
    public static func directory(root: String) -> String { root + "/containers" }

    /// SIGKILLs every container recorded under `root` (its process group: the container
    /// called setsid) and removes the pid files. Returns how many were still running.
    @discardableResult
    public static func stopAll(root: String, log: (String) -> Void) -> Int {
        let directory = directory(root: root)
        var stopped = 0
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where file.hasSuffix(suffix) {
            let path = directory + "/" + file
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1, isContainer(pid)
            else { continue }
            log("stopping container pid \(pid) (\(file.dropLast(suffix.count))) left by an earlier kubelet")
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            stopped += 1
        }
        return stopped
    }

    /// Whether `pid` runs `<executable> container …`.
    static func isContainer(_ pid: Int32) -> Bool {
        guard let commandLine = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        let words = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.count > 1 && words[1] == "container"
    }
}
