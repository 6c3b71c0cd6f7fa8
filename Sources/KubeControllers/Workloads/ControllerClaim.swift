//! Claiming (`ClaimObject` of Kubernetes' ControllerRefManager): a controller owns what carries
//! its uid as controller reference and still matches its selector, adopts orphans that match,
//! and releases what it owns but no longer matches.
import KubeAPI
import Wire

/// The outcome of claiming a list of objects.
struct ClaimResult<Item> {
    /// What the controller now counts as its own: owned and matching, plus the adopted.
    var claimed: [Item] = []
    /// Orphans to adopt (they are in `claimed` too: the adoption is sent before anything that
    /// depends on it, and a failed adoption only makes the next pass claim again).
    var adopted: [Item] = []
    /// Owned objects that no longer match and lose their controller reference.
    var released: [Item] = []
}

enum ControllerClaim {
    /// Claims `items` for the owner with `ownerUID` and `selector`. An owner being deleted adopts
    /// and releases nothing (it keeps what it has); an orphan being deleted is left alone.
    static func claim<Item>(
        _ items: [Item], object: (Item) -> JSONValue, ownerUID: String, selector: LabelSelector, ownerBeingDeleted: Bool
    ) -> ClaimResult<Item> {
        var result = ClaimResult<Item>()
        for item in items {
            let json = object(item)
            let matches = selector.matches(object: json)
            if let controller = WorkloadOwnerRef.controller(of: json) {
                guard controller.uid == ownerUID else { continue }
                if matches {
                    result.claimed.append(item)
                } else if !ownerBeingDeleted {
                    result.released.append(item)
                }
                continue
            }
            let orphanBeingDeleted = WorkloadMetadata.isBeingDeleted(json)
            guard matches, !ownerBeingDeleted, !orphanBeingDeleted else { continue }
            result.adopted.append(item)
            result.claimed.append(item)
        }
        return result
    }
}

enum PodClaim {
    static func claim(_ pods: [WorkloadPod], ownerUID: String, selector: LabelSelector, ownerBeingDeleted: Bool) -> ClaimResult<WorkloadPod> {
        ControllerClaim.claim(pods, object: \.object, ownerUID: ownerUID, selector: selector, ownerBeingDeleted: ownerBeingDeleted)
    }
}
