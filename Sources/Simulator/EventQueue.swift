//! Simulator: a whole cluster in one thread, on virtual time, driven by one seed.
//!
//! Run it: `faultline sim --seed 7 --nodes 5` (one seed), `faultline sim --seeds 1..200` (a sweep),
//! `faultline sim --seed 7 --check-determinism` (run twice, compare the traces byte for byte).
//!
//! The same `KVReplica` and `Raft.Instance` as the real server run here; the network, the disks,
//! the clocks and the clients are simulated. Every random choice comes from the run's seed, and
//! nothing iterates a Dictionary or Set in an order that reaches an output, so one seed always
//! gives one trace.

import Base

/// Pending actions ordered by (virtual time, sequence): ties run in the order they were scheduled.
struct EventQueue {
    private struct Item {
        var time: Nanoseconds
        var sequence: UInt64
        var action: () -> Void
        func precedes(_ other: Item) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }
    private var heap: [Item] = []
    private var nextSequence: UInt64 = 0
    /// Actions pending at most: a runaway feedback loop stops the run instead of eating memory.
    let capacity: Int

    init(capacity: Int = 4_000_000) { self.capacity = capacity }

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func schedule(at time: Nanoseconds, _ action: @escaping () -> Void) {
        precondition(heap.count < capacity, "event queue full (\(capacity) pending at \(time)ns)")
        heap.append(Item(time: time, sequence: nextSequence, action: action))
        nextSequence += 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest action and its time.
    mutating func pop() -> (time: Nanoseconds, action: () -> Void)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let item = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return (item.time, item.action)
    }

    var nextTime: Nanoseconds? { heap.first?.time }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
