//! Probes: the steady-state hypothesis, checked before the faults, during them (where the
//! scenario asks) and after healing. Each probe retries until it holds or its tolerance runs out.

import Base
import EtcdClient
import Glibc
import Net
import Scenario

public struct ProbeResult: Sendable {
    public var probe: String
    /// before, during or after.
    public var phase: String
    public var time: Nanoseconds
    public var held: Bool
    /// How long the probe took to hold (or to give up).
    public var took: Nanoseconds
    public var detail: String
}

public enum Probes {
    public static func check(_ kind: ProbeKind, within tolerance: Nanoseconds, members: [(name: String, url: String)],
        sequence: Int) -> (held: Bool, detail: String)
    {
        let deadline = MonotonicClock.now() + tolerance
        var last = ""
        repeat {
            switch kind {
            case .write:
                let client = EtcdClient(endpoints: members.map(\.url), timeout: min(tolerance, Time.second))
                do {
                    let revision = try client.put("probe/\(sequence)", "\(sequence)")
                    return (true, "write committed at revision \(revision)")
                } catch {
                    last = "\(error)"
                }
            case .read:
                let client = EtcdClient(endpoints: members.map(\.url), timeout: min(tolerance, Time.second))
                do {
                    _ = try client.value(of: "probe/read")
                    return (true, "linearizable read answered")
                } catch {
                    last = "\(error)"
                }
            case .leader:
                var claims: [String: Int] = [:]
                var answered = 0
                for member in members {
                    guard let status = try? EtcdClient(endpoints: [member.url], timeout: 500 * Time.millisecond).status() else { continue }
                    answered += 1
                    if status.leader != 0 { claims[String(status.leader, radix: 16), default: 0] += 1 }
                }
                if claims.count == 1, let count = claims.first?.value, count == answered, answered > 0 {
                    return (true, "\(answered) of \(members.count) members name leader \(claims.first!.key)")
                }
                last = "\(answered) of \(members.count) members answered; leaders named: \(claims.isEmpty ? "none" : claims.keys.sorted().joined(separator: ", "))"
            case .membersHealthy:
                var unhealthy: [String] = []
                for member in members {
                    guard let endpoint = try? Endpoint(parsing: String(member.url.dropFirst("http://".count))),
                        let response = try? HTTPClient(endpoint: endpoint).get("/health", timeout: 1 * Time.second),
                        response.status == 200, response.text.contains("true")
                    else {
                        unhealthy.append(member.name)
                        continue
                    }
                }
                if unhealthy.isEmpty { return (true, "all \(members.count) members healthy") }
                last = "unhealthy: \(unhealthy.joined(separator: ", "))"
            }
            usleep(100_000)
        } while MonotonicClock.now() < deadline
        return (false, last)
    }
}
