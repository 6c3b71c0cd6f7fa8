//! BrowserTests: report.html in a real headless Chromium (Debian's `chromium`, which
//! Scripts/setup installs). The page must render, the DOM Chromium builds must hold the timeline
//! and its elements, and a screenshot must show something. file:// only, with Chromium's
//! background networking off; each Chromium call is killed after 60 s.
//!
//! Run: `swift test --filter BrowserTests`. FAULTLINE_SKIP_BROWSER=1 skips it on purpose;
//! FAULTLINE_KEEP_SCREENSHOT=/some/file.png keeps a copy of the screenshot to look at (and of
//! the page, as /some/file.html).

import Foundation
import Report
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct BrowserTests {
    static let skip = ProcessInfo.processInfo.environment["FAULTLINE_SKIP_BROWSER"] == "1"
    static let timeoutSeconds = 60.0

    @Test(.disabled(if: skip, "FAULTLINE_SKIP_BROWSER=1")) func timelineRendersInHeadlessChromium() throws {
        guard let chromium = Self.chromiumPath() else {
            Issue.record("Chromium is not installed (looked for chromium and chromium-browser on PATH): run Scripts/setup, or set FAULTLINE_SKIP_BROWSER=1 to skip this test on purpose")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-report-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeReport(SampleReport.build(), to: directory)
        let page = directory.appendingPathComponent("report.html")

        let dom = try Self.runChromium(chromium, ["--dump-dom", page.absoluteString], in: directory)
        #expect(dom.status == 0, "chromium --dump-dom exited \(dom.status): \(dom.errors.suffix(2_000))")
        let html = dom.output
        #expect(html.contains("<svg id=\"timeline\""), "no timeline in the DOM Chromium built")
        #expect(html.contains("class=\"banner verdict-fail\""))
        #expect(occurrences(of: "class=\"fault-band\"", in: html) >= 1)
        #expect(occurrences(of: "class=\"leader-span\"", in: html) >= 1)
        for outcome in ["ok", "fail", "info"] {
            #expect(occurrences(of: "class=\"op \(outcome)\"", in: html) >= 1, "no \(outcome) dots")
        }
        #expect(occurrences(of: "class=\"check-failure\"", in: html) == 1)

        let screenshot = directory.appendingPathComponent("screenshot.png")
        let shot = try Self.runChromium(
            chromium, ["--screenshot=\(screenshot.path)", "--window-size=1280,1500", page.absoluteString], in: directory)
        #expect(shot.status == 0, "chromium --screenshot exited \(shot.status): \(shot.errors.suffix(2_000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
        #expect(size > 10_000, "the screenshot has \(size) bytes: nothing rendered?")
        if let keep = ProcessInfo.processInfo.environment["FAULTLINE_KEEP_SCREENSHOT"], size > 0 {
            let keptPage = URL(fileURLWithPath: keep).deletingPathExtension().appendingPathExtension("html").path
            for (source, target) in [(screenshot.path, keep), (page.path, keptPage)] {
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: source, toPath: target)
            }
        }
    }

    static func chromiumPath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser"] {
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs headless Chromium with `arguments`, a profile inside `directory`, and everything that
    /// would reach out to the network turned off; kills it after `timeoutSeconds`.
    static func runChromium(_ chromium: String, _ arguments: [String], in directory: URL) throws
        -> (status: Int32, output: String, errors: String)
    {
        let profile = directory.appendingPathComponent("profile")
        let outputFile = directory.appendingPathComponent("chromium.out")
        let errorFile = directory.appendingPathComponent("chromium.err")
        // Files, not pipes: --dump-dom writes more than a pipe holds, and nobody reads it until the end.
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--disable-breakpad", "--metrics-recording-only", "--hide-scrollbars",
            "--user-data-dir=\(profile.path)",
        ] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Issue.record("chromium \(arguments.first ?? "") did not finish within \(Int(timeoutSeconds)) s and was killed")
        }
        process.waitUntilExit()
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output, errors)
    }
}
