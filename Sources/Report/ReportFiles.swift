//! ReportFiles: the target's entry points. `renderAll` is pure (the same report gives the same
//! three texts, byte for byte); `writeReport` is the only code here that touches the disk.

import Foundation

/// The three report files' names, as `faultline run --out DIR` leaves them.
public enum ReportFileName {
    public static let json = "report.json"
    public static let junit = "junit.xml"
    public static let html = "report.html"
}

/// Renders report.json, junit.xml and report.html. Pure: no files, clock or threads.
public func renderAll(_ report: RunReport) -> (json: String, junit: String, html: String) {
    (JSONReport.render(report), JUnitReport.render(report), HTMLReport.render(report))
}

/// Renders `report` and writes the three files into `directory` (created if missing), each
/// atomically, so a reader never sees half a report.
public func writeReport(_ report: RunReport, to directory: URL) throws {
    let files = renderAll(report)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in [(ReportFileName.json, files.json), (ReportFileName.junit, files.junit), (ReportFileName.html, files.html)] {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
    }
}
