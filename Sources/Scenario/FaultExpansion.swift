//! FaultExpansion: one firing of one fault kind turned into concrete actions on named hosts and
//! links — the injections, their undos, and for swizzle the timed steps — given the cluster as
//! the runner sees it and the entry's seeded generator.

import Base

struct FaultExpansion {
    /// What one firing does.
    struct Plan {
        var injections: [FaultAction] = []
        /// Applied when the firing's `for` has passed.
        var undos: [FaultAction] = []
        /// Timed actions of their own (swizzle's cuts and heals), each with its own tag.
        var steps: [PlannedAction] = []
        /// The hosts hit, in member order; empty means the selectors chose nothing.
        var hosts: [String] = []
    }

    let fault: Fault
    let kind: FaultKind
    let occurrence: FaultOccurrence
    let view: ClusterView
    var random: SeededRandom

    init(fault: Fault, kind: FaultKind, occurrence: FaultOccurrence, view: ClusterView, random: SeededRandom) {
        self.fault = fault
        self.kind = kind
        self.occurrence = occurrence
        self.view = view
        self.random = random
    }

    var parameters: FaultParameters { fault.parameters }

    mutating func choose(_ selector: Selector?, excluding taken: Set<String> = []) -> [String] {
        guard let selector else { return [] }
        guard let hosts = selector.choose(in: view, excluding: taken, using: &random) else {
            preconditionFailure("selector \(selector) of \(occurrence.tag) needs a leader; the planner checks for one first")
        }
        return hosts
    }

    /// Sorts host names in member order, the client and other hosts after the members.
    func inMemberOrder(_ hosts: some Sequence<String>) -> [String] {
        let set = Set(hosts)
        return view.members.filter(set.contains) + set.subtracting(view.members).sorted()
    }

    mutating func expand() -> Plan {
        switch kind {
        case .partition: return partition()
        case .isolate: return isolate()
        case .bridge: return bridge()
        case .majoritiesRing: return majoritiesRing()
        case .cut, .latency, .bandwidth, .reset: return links()
        case .kill, .terminate, .pause, .restart, .skew: return process()
        case .swizzle: return swizzle()
        case .mix: fatalError("unreachable: the planner picks a kind for \(occurrence.tag) before expanding it")
        }
    }

    // MARK: - Network

    mutating func partition() -> Plan {
        var taken: Set<String> = []
        var groups: [[String]] = []
        let selectors = parameters.groups.isEmpty ? [parameters.target].compactMap { $0 } : parameters.groups
        for selector in selectors {
            let group = choose(selector, excluding: taken)
            guard !group.isEmpty else { continue }
            taken.formUnion(group)
            groups.append(group)
        }
        // A partition needs hosts on both sides: the named groups and the rest.
        let rest = view.members.filter { !taken.contains($0) }
        guard groups.count + (rest.isEmpty ? 0 : 1) >= 2 else { return Plan() }
        return Plan(injections: [.partition(groups: groups, mode: parameters.mode)], undos: [.heal(tag: occurrence.tag)],
            hosts: inMemberOrder(taken))
    }

    mutating func isolate() -> Plan {
        let hosts = choose(parameters.target)
        return Plan(injections: hosts.map { .isolate(host: $0, mode: parameters.mode, includeClient: parameters.includeClient) },
            undos: [.heal(tag: occurrence.tag)], hosts: hosts)
    }

    /// The bridge sees everyone; the others are split in two halves that see only it and their own half.
    mutating func bridge() -> Plan {
        guard let bridge = choose(parameters.target).first else { return Plan() }
        var others = view.members.filter { $0 != bridge }
        random.shuffle(&others)
        let half = others.count / 2
        let left = inMemberOrder(others.prefix(half)), right = inMemberOrder(others.dropFirst(half))
        var cuts: [FaultAction] = []
        for a in left {
            for b in right {
                cuts.append(.cut(from: a, to: b, mode: parameters.mode))
                cuts.append(.cut(from: b, to: a, mode: parameters.mode))
            }
        }
        return Plan(injections: cuts, undos: [.heal(tag: occurrence.tag)], hosts: view.members)
    }

    /// Members on a shuffled ring; each hears only the majority that starts at itself and runs
    /// clockwise, so every member sees a majority and no two see the same one (Jepsen's
    /// majorities-ring). Made of one-way cuts into each member from the hosts outside its window.
    mutating func majoritiesRing() -> Plan {
        var ring = view.members
        random.shuffle(&ring)
        let count = ring.count
        let majority = count / 2 + 1
        var cuts: [FaultAction] = []
        for (position, member) in ring.enumerated() {
            let heard = Set((0..<majority).map { ring[(position + $0) % count] })
            for other in view.members where !heard.contains(other) {
                cuts.append(.cut(from: other, to: member, mode: parameters.mode))
            }
        }
        return Plan(injections: cuts, undos: [.heal(tag: occurrence.tag)], hosts: view.members)
    }

    /// The directed links a fault acts on: `from` × `to`, or every link of the targets (both
    /// directions, to every member, and to the client with include-client).
    mutating func directedLinks() -> [(from: String, to: String)] {
        if parameters.target == nil {
            let sources = choose(parameters.from), targets = choose(parameters.to)
            return sources.flatMap { source in targets.filter { $0 != source }.map { (source, $0) } }
        }
        let targets = choose(parameters.target)
        let peers = view.members + (parameters.includeClient ? ["client"] : [])
        var links: [(from: String, to: String)] = []
        for target in targets {
            for peer in peers where peer != target {
                for (from, to) in [(target, peer), (peer, target)] where !links.contains(where: { $0.from == from && $0.to == to }) {
                    links.append((from, to))
                }
            }
        }
        return links
    }

    mutating func links() -> Plan {
        let links = directedLinks()
        let injections: [FaultAction] = links.map { link in
            switch kind {
            case .cut: return .cut(from: link.from, to: link.to, mode: parameters.mode)
            case .latency: return .latency(from: link.from, to: link.to, delay: parameters.delay, jitter: parameters.jitter)
            case .bandwidth:
                guard let rate = parameters.bytesPerSecond else { preconditionFailure("bandwidth \(occurrence.tag) without a rate") }
                return .bandwidth(from: link.from, to: link.to, bytesPerSecond: rate)
            case .reset: return .reset(from: link.from, to: link.to)
            default: fatalError("unreachable: \(kind) is not a link fault")
            }
        }
        let hosts = inMemberOrder(links.flatMap { [$0.from, $0.to] })
        return Plan(injections: injections, undos: kind == .reset ? [] : [.heal(tag: occurrence.tag)], hosts: hosts)
    }

    // MARK: - Processes and clocks

    mutating func process() -> Plan {
        let hosts = choose(parameters.target)
        var plan = Plan(hosts: hosts)
        for host in hosts {
            switch kind {
            case .kill:
                plan.injections.append(.kill(host: host))
                plan.undos.append(.restart(host: host, wipe: parameters.wipe))
            case .terminate:
                plan.injections.append(.terminate(host: host))
                plan.undos.append(.restart(host: host, wipe: parameters.wipe))
            case .pause:
                plan.injections.append(.pause(host: host))
                plan.undos.append(.resume(host: host))
            case .restart:
                plan.injections.append(.restart(host: host, wipe: parameters.wipe))
            case .skew:
                plan.injections.append(.skew(host: host, offset: parameters.clockOffset, rate: parameters.clockRate))
                plan.undos.append(.skew(host: host, offset: 0, rate: 1))
            default: fatalError("unreachable: \(kind) is not a process or clock fault")
            }
        }
        return plan
    }

    // MARK: - Swizzle

    /// FoundationDB's swizzle-clogging on links: the target's links (each pair of hosts, both
    /// directions) are cut one by one over the first half of `for`, then healed in another random
    /// order over the second half. Each pair is a step with its own tag (`f2.1.3`).
    mutating func swizzle() -> Plan {
        guard let end = occurrence.end else { preconditionFailure("swizzle \(occurrence.tag) has no duration") }
        let targets = Set(choose(parameters.target))
        var pairs: [(String, String)] = []
        for (position, first) in view.members.enumerated() {
            for second in view.members[(position + 1)...] where targets.contains(first) || targets.contains(second) {
                pairs.append((first, second))
            }
        }
        guard !pairs.isEmpty else { return Plan() }
        random.shuffle(&pairs)
        var healOrder = Array(pairs.indices)
        random.shuffle(&healOrder)
        let half = (end - occurrence.start) / 2
        let spacing = half / Int64(pairs.count)
        var plan = Plan(hosts: inMemberOrder(pairs.flatMap { [$0.0, $0.1] }))
        for (number, pair) in pairs.enumerated() {
            let tag = "\(occurrence.tag).\(number + 1)"
            let at = occurrence.start + Int64(number) * spacing
            for (from, to) in [(pair.0, pair.1), (pair.1, pair.0)] {
                plan.steps.append(PlannedAction(time: at, tag: tag, purpose: .inject, action: .cut(from: from, to: to, mode: parameters.mode)))
            }
        }
        for (slot, number) in healOrder.enumerated() {
            let tag = "\(occurrence.tag).\(number + 1)"
            plan.steps.append(PlannedAction(time: occurrence.start + half + Int64(slot) * spacing, tag: tag, purpose: .undo,
                action: .heal(tag: tag)))
        }
        return plan
    }
}
