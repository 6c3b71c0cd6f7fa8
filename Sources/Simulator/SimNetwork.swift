//! The simulated network: per directed link, blocked or open; globally, delay with jitter (which
//! reorders), loss and duplication. Client links behave like TCP: delayed and lossy (a lost
//! request or reply is a timeout) but never duplicated.

import Base

struct NetworkConditions: Sendable, CustomStringConvertible {
    var delayMin: Nanoseconds = 1 * Time.millisecond
    var delayMax: Nanoseconds = 5 * Time.millisecond
    var lossRate = 0.0
    var duplicateRate = 0.0
    var description: String {
        "delay=\(Time.describe(delayMin))..\(Time.describe(delayMax)) loss=\(lossRate) dup=\(duplicateRate)"
    }
}

struct SimNetwork {
    /// Directed links (from, to) that drop everything.
    private(set) var blocked: Set<Link> = []
    var conditions = NetworkConditions()
    /// Calm conditions used when the nemesis is not degrading the network.
    var baseline = NetworkConditions()

    struct Link: Hashable, Comparable, CustomStringConvertible {
        var from: UInt64
        var to: UInt64
        static func < (a: Link, b: Link) -> Bool { (a.from, a.to) < (b.from, b.to) }
        var description: String { "\(from)->\(to)" }
    }

    func isBlocked(from: UInt64, to: UInt64) -> Bool { blocked.contains(Link(from: from, to: to)) }

    mutating func block(from: UInt64, to: UInt64) { blocked.insert(Link(from: from, to: to)) }
    mutating func healAll() { blocked.removeAll() }

    /// Cuts every link between the groups (both directions); links inside a group stay.
    mutating func partition(_ groups: [[UInt64]]) {
        for (i, a) in groups.enumerated() {
            for (j, b) in groups.enumerated() where i != j {
                for from in a { for to in b { block(from: from, to: to) } }
            }
        }
    }

    /// Delivery delays for one message: empty when lost, two entries when duplicated.
    func deliveries(from: UInt64, to: UInt64, duplicable: Bool, random: inout SeededRandom) -> [Nanoseconds] {
        if isBlocked(from: from, to: to) { return [] }
        if random.chance(conditions.lossRate) { return [] }
        var delays = [random.int64(in: conditions.delayMin...conditions.delayMax)]
        if duplicable && random.chance(conditions.duplicateRate) {
            delays.append(random.int64(in: conditions.delayMin...(conditions.delayMax * 3)))
        }
        return delays
    }
}
