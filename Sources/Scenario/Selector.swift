//! Selector: which hosts a fault hits, chosen when it fires from what the cluster looks like then
//! (`ClusterView`) and the planner's seeded generator, so the same seed and the same views choose
//! the same hosts.

import Base

/// What the runner saw of the cluster just before asking the planner what is due.
public struct ClusterView: Sendable, Equatable {
    /// The etcd members, in topology order.
    public var members: [String]
    /// The leader the members agree on, or nil when none is known (an election is under way).
    public var leader: String?
    /// Hosts whose process is not running (killed, terminated, crashed).
    public var down: Set<String>
    /// Hosts whose process is stopped with SIGSTOP.
    public var paused: Set<String>
    /// The host holding each component lease (`kube-scheduler`, `kube-controller-manager`), as
    /// last read; a lease nobody holds is absent.
    public var leaseHolders: [String: String]

    public init(members: [String], leader: String? = nil, down: Set<String> = [], paused: Set<String> = [],
        leaseHolders: [String: String] = [:])
    {
        precondition(leader.map(members.contains) ?? true, "leader \(leader ?? "") is not among the members \(members)")
        self.members = members
        self.leader = leader
        self.down = down
        self.paused = paused
        self.leaseHolders = leaseHolders
    }

    /// Members that run and are not paused, in member order.
    public var running: [String] { members.filter { !down.contains($0) && !paused.contains($0) } }
}

/// A set of hosts named by role in the cluster rather than by name.
///
/// Sizes: with n members, f = (n-1)/2 is how many may fail. `minority` is f members and never the
/// leader, so the leader keeps a quorum; `minority-with-leader` is the leader and f-1 followers,
/// so the leader is cut off from a quorum; `majority` is the other n-f members, leader included.
public enum Selector: Sendable, Equatable, CustomStringConvertible {
    case leader
    /// Every member but the leader.
    case followers
    case minority
    case minorityWithLeader
    case majority
    /// `count` members chosen at random among those running (among all when too few run).
    case random(Int)
    /// Every member.
    case all
    /// The root namespace where the workload's clients run (network faults only).
    case client
    /// Named hosts (one, or a list).
    case hosts([String])
    /// The host holding a component's lease in kube-system: `leader(kube-controller-manager)`.
    case leaseHolder(String)

    /// The component leases `leader(…)` can name.
    public static let componentLeases = ["kube-scheduler", "kube-controller-manager"]

    public var description: String {
        switch self {
        case .leader: return "leader"
        case .followers: return "followers"
        case .minority: return "minority"
        case .minorityWithLeader: return "minority-with-leader"
        case .majority: return "majority"
        case .random(let count): return "random(\(count))"
        case .all: return "all"
        case .client: return "client"
        case .hosts(let names): return names.count == 1 ? names[0] : "[" + names.joined(separator: ", ") + "]"
        case .leaseHolder(let lease): return "leader(\(lease))"
        }
    }

    /// The words a selector can be, for errors.
    static let wordsList = "leader, followers, minority, minority-with-leader, majority, random(k), all, client, leader(kube-scheduler), leader(kube-controller-manager), a host name, or a list of host names"

    /// Whether choosing needs to know the leader.
    public var needsLeader: Bool {
        switch self {
        case .leader, .followers, .minority, .minorityWithLeader, .majority: return true
        case .random, .all, .client, .hosts, .leaseHolder: return false
        }
    }

    /// Whether `view` knows enough to choose now: the etcd leader for the leader-based
    /// selectors, the lease's holder for `leader(lease)`.
    public func canChoose(in view: ClusterView) -> Bool {
        if needsLeader { return view.leader != nil }
        if case .leaseHolder(let lease) = self { return view.leaseHolders[lease] != nil }
        return true
    }

    /// The f of a cluster of `count` members: how many can fail with a quorum left.
    public static func faultTolerance(members count: Int) -> Int { (count - 1) / 2 }

    /// How many hosts this selects in a cluster of `count` members, when that does not depend
    /// on the moment.
    func size(members count: Int) -> Int {
        let tolerance = Self.faultTolerance(members: count)
        switch self {
        case .leader, .client, .leaseHolder: return 1
        case .followers: return count - 1
        case .minority, .minorityWithLeader: return tolerance
        case .majority: return count - tolerance
        case .random(let chosen): return chosen
        case .all: return count
        case .hosts(let names): return names.count
        }
    }

    /// The hosts selected in `view`, in member order (named hosts in the order written), leaving
    /// out `taken` (hosts an earlier group of the same fault already chose). Nil when the
    /// selector needs a leader and none is known.
    func choose(in view: ClusterView, excluding taken: Set<String> = [], using random: inout SeededRandom) -> [String]? {
        let members = view.members.filter { !taken.contains($0) }
        let tolerance = Self.faultTolerance(members: view.members.count)
        func pick(_ count: Int, from candidates: [String]) -> [String] {
            var shuffled = candidates
            random.shuffle(&shuffled)
            let chosen = Set(shuffled.prefix(count))
            return candidates.filter(chosen.contains)
        }
        switch self {
        case .all: return members
        case .client: return ["client"]
        case .hosts(let names): return names.filter { !taken.contains($0) }
        case .leaseHolder(let lease):
            guard let holder = view.leaseHolders[lease] else { return nil }
            return taken.contains(holder) ? [] : [holder]
        case .random(let count):
            let running = members.filter { !view.down.contains($0) && !view.paused.contains($0) }
            return pick(count, from: running.count >= count ? running : members)
        case .leader, .followers, .minority, .minorityWithLeader, .majority: break
        }
        guard let leader = view.leader else { return nil }
        let followers = members.filter { $0 != leader }
        let leaderIfFree = members.contains(leader) ? [leader] : []
        switch self {
        case .leader: return leaderIfFree
        case .followers: return followers
        case .minority: return pick(tolerance, from: followers)
        case .minorityWithLeader:
            let others = pick(max(tolerance - 1, 0), from: followers)
            return members.filter { $0 == leader || others.contains($0) }
        case .majority:
            let outside = Set(pick(tolerance, from: followers))
            return members.filter { !outside.contains($0) }
        case .all, .client, .hosts, .random, .leaseHolder: fatalError("unreachable: handled above")
        }
    }

    /// Reads one word: a selector keyword, `random(k)`, or a host name (checked by the caller).
    static func parse(word: String) -> Selector? {
        switch word {
        case "leader": return .leader
        case "followers": return .followers
        case "minority": return .minority
        case "minority-with-leader": return .minorityWithLeader
        case "majority": return .majority
        case "all": return .all
        case "client": return .client
        default: break
        }
        if word.hasPrefix("leader(") && word.hasSuffix(")") {
            let lease = String(word.dropFirst("leader(".count).dropLast())
            return componentLeases.contains(lease) ? .leaseHolder(lease) : nil
        }
        guard word.hasPrefix("random(") && word.hasSuffix(")") else { return nil }
        let digits = word.dropFirst("random(".count).dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else { return nil }
        return .random(count)
    }
}
