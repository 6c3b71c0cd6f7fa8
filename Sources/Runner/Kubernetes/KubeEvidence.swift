//! KubeEvidence: what the Kubernetes checks need beyond the snapshots, derived from the run's
//! books: the spans during which a kubelet could not reach any apiserver (`NodeSilence`), the
//! spans each component instance led its lease (from the components' logs), when hosts were
//! paused, and when a lease holder was stopped or cut off (for the takeover time).

import Base
import Foundation
import Scenario

enum KubeEvidence {
    /// The spans during which each kubelet host in `kubelets` could not reach any of
    /// `apiservers`: isolated, partitioned away from all of them, or its process killed,
    /// terminated or paused.
    static func silences(faults: [FaultBand], kubelets: [String], apiservers: [String]) -> [NodeSilence] {
        var silences: [NodeSilence] = []
        for band in faults {
            for node in kubelets where cutsOff(band, host: node, from: apiservers) {
                silences.append(NodeSilence(node: node, start: band.start, end: band.end, cause: band.label))
            }
        }
        return silences.sorted { ($0.start, $0.node) < ($1.start, $1.node) }
    }

    /// Whether `band` leaves `host` unable to talk to any of `others`, or stops its process.
    static func cutsOff(_ band: FaultBand, host: String, from others: [String]) -> Bool {
        switch band.kind {
        case "kill", "terminate", "pause", "isolate":
            return band.hosts.contains(host)
        case "partition":
            // Hosts in no group form one more group.
            func group(of name: String) -> Int { band.groups.firstIndex { $0.contains(name) } ?? -1 }
            let own = group(of: host)
            return !others.isEmpty && others.allSatisfy { group(of: $0) != own }
        default:
            return false
        }
    }

    /// Pause windows by host.
    static func pauses(faults: [FaultBand], end: Nanoseconds) -> [String: [TimeWindow]] {
        var windows: [String: [TimeWindow]] = [:]
        for band in faults where band.kind == "pause" {
            for host in band.hosts {
                windows[host, default: []].append(TimeWindow(start: band.start, end: max(band.start, band.end ?? end)))
            }
        }
        return windows
    }

    /// When each of `components` (scheduler and controller-manager hosts) was killed, paused or
    /// cut off from every apiserver: the moments a standby should take over if it was leading.
    static func stops(faults: [FaultBand], components: [String], apiservers: [String]) -> [String: [Nanoseconds]] {
        var stops: [String: [Nanoseconds]] = [:]
        for band in faults {
            for host in components where cutsOff(band, host: host, from: apiservers) {
                stops[host, default: []].append(band.start)
            }
        }
        return stops
    }

    /// A component's leadership line: `… leader election kube-system/kube-scheduler: scheduler-1 started leading`.
    struct LeadershipLine: Equatable {
        var time: Nanoseconds
        var lease: String
        var identity: String
        var started: Bool
    }

    /// Reads one log line (`<RFC 3339 time> <component>: leader election <lease>: <identity>
    /// started|stopped leading`); nil for any other line. `runTime` puts wall-clock
    /// nanoseconds on the run's clock.
    static func leadershipLine(_ line: Substring, runTime: (Int64) -> Nanoseconds) -> LeadershipLine? {
        guard let marker = line.range(of: ": leader election "), line.hasSuffix(" leading") else { return nil }
        let stamp = line[..<line.firstIndex(of: " ")!]
        guard let wall = wallNanoseconds(String(stamp)) else { return nil }
        let rest = line[marker.upperBound...]
        guard let colon = rest.range(of: ": ") else { return nil }
        // The elector names the lease as an object reference (`leases.coordination.k8s.io/kube-system/kube-scheduler`).
        var lease = String(rest[..<colon.lowerBound])
        if lease.hasPrefix("leases.coordination.k8s.io/") { lease.removeFirst("leases.coordination.k8s.io/".count) }
        let words = rest[colon.upperBound...].split(separator: " ")
        guard words.count == 3, words[2] == "leading", words[1] == "started" || words[1] == "stopped" else { return nil }
        return LeadershipLine(time: runTime(wall), lease: lease, identity: String(words[0]), started: words[1] == "started")
    }

    /// An RFC 3339 time with optional fraction (`2026-11-23T14:27:11.123Z`) as nanoseconds since the epoch.
    static func wallNanoseconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1e9).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1e9) }
    }

    /// Leadership spans from the lines of every host's log (host name → its lines, in order).
    /// The identity is the host (the testbed starts each component with `--identity <host>`);
    /// a span still open when its host is killed or terminated ends at that fault's start (the
    /// same instant `stops` gives the takeover check).
    static func spans(lines: [String: [LeadershipLine]], faults: [FaultBand]) -> [LeadershipSpan] {
        var spans: [LeadershipSpan] = []
        for host in lines.keys.sorted() {
            var open: [String: Int] = [:]  // lease -> index into spans
            var events: [(time: Nanoseconds, line: LeadershipLine?)] = (lines[host] ?? []).map { ($0.time, $0) }
            events += faults.filter { ($0.kind == "kill" || $0.kind == "terminate") && $0.hosts.contains(host) }.map { ($0.start, nil) }
            events.sort { $0.time < $1.time }
            for event in events {
                guard let line = event.line else {
                    for index in open.values { spans[index].end = event.time }
                    open.removeAll()
                    continue
                }
                if line.started {
                    guard open[line.lease] == nil else { continue }
                    spans.append(LeadershipSpan(lease: line.lease, holder: line.identity, start: line.time, end: nil))
                    open[line.lease] = spans.count - 1
                } else if let index = open.removeValue(forKey: line.lease) {
                    spans[index].end = line.time
                }
            }
        }
        return spans.sorted { ($0.start, $0.holder) < ($1.start, $1.holder) }
    }
}
