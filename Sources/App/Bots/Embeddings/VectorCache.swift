/// Vectors by text, at most `capacity` of them: when full, the least recently used goes. Every operation is O(1): the
/// entries form a list from newest to oldest, threaded through an array by index.
struct VectorCache {
    private struct Entry {
        var key: String
        var vector: [Float]
        var newer = -1
        var older = -1
    }

    let capacity: Int
    private var entries: [Entry] = []
    private var slots: [String: Int] = [:]
    private var newest = -1
    private var oldest = -1

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { slots.count }

    /// The vector for `key`, which becomes the most recently used.
    mutating func get(_ key: String) -> [Float]? {
        guard let slot = slots[key] else { return nil }
        moveToFront(slot)
        return entries[slot].vector
    }

    /// Keeps `vector` for `key`, pushing out the least recently used entry when full.
    mutating func put(_ key: String, _ vector: [Float]) {
        if let slot = slots[key] {
            entries[slot].vector = vector
            moveToFront(slot)
            return
        }
        guard capacity > 0 else { return }
        let slot: Int
        if entries.count < capacity {
            entries.append(Entry(key: key, vector: vector))
            slot = entries.count - 1
        } else {
            slot = oldest
            unlink(slot)
            slots[entries[slot].key] = nil
            entries[slot] = Entry(key: key, vector: vector)
        }
        slots[key] = slot
        linkAtFront(slot)
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAtFront(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (entries[slot].newer, entries[slot].older)
        if newer >= 0 { entries[newer].older = older } else { newest = older }
        if older >= 0 { entries[older].newer = newer } else { oldest = newer }
        entries[slot].newer = -1
        entries[slot].older = -1
    }

    private mutating func linkAtFront(_ slot: Int) {
        entries[slot].older = newest
        if newest >= 0 { entries[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
