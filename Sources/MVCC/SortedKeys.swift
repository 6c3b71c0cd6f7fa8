//! An ordered set of byte-string keys for range scans: a sorted list of sorted chunks. Inserts
//! and lookups cost O(log n + chunk size); a scan walks chunks in order. Simpler than a B-tree,
//! and with 512-key chunks just as fast at the sizes a member holds (10^5–10^6 keys).

struct SortedKeys {
    static let chunkCapacity = 512
    private(set) var chunks: [[Bytes]] = []
    private(set) var count = 0

    /// Index of the first chunk whose last key is >= key (the chunk key would live in).
    private func chunkIndex(for key: Bytes) -> Int {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].last!.lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func position(of key: Bytes, in chunk: [Bytes]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if chunk[middle].lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insert(_ key: Bytes) {
        if chunks.isEmpty {
            chunks = [[key]]
            count = 1
            return
        }
        var index = chunkIndex(for: key)
        if index == chunks.count { index -= 1 }
        let position = Self.position(of: key, in: chunks[index])
        if position < chunks[index].count && chunks[index][position] == key { return }
        chunks[index].insert(key, at: position)
        count += 1
        if chunks[index].count > Self.chunkCapacity {
            let upper = Array(chunks[index][(Self.chunkCapacity / 2)...])
            chunks[index].removeLast(upper.count)
            chunks.insert(upper, at: index + 1)
        }
    }

    mutating func remove(_ key: Bytes) {
        let index = chunkIndex(for: key)
        guard index < chunks.count else { return }
        let position = Self.position(of: key, in: chunks[index])
        guard position < chunks[index].count, chunks[index][position] == key else { return }
        chunks[index].remove(at: position)
        count -= 1
        if chunks[index].isEmpty { chunks.remove(at: index) }
    }

    /// Calls `body` for each key in [start, end) in order (`end` nil: no upper bound) until it
    /// returns false.
    func forEach(from start: Bytes, to end: Bytes?, _ body: (Bytes) -> Bool) {
        var index = chunkIndex(for: start)
        guard index < chunks.count else { return }
        var position = Self.position(of: start, in: chunks[index])
        while index < chunks.count {
            let chunk = chunks[index]
            while position < chunk.count {
                let key = chunk[position]
                if let end, !key.lexicographicallyPrecedes(end) { return }
                if !body(key) { return }
                position += 1
            }
            index += 1
            position = 0
        }
    }
}
