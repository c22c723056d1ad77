import Foundation

/// Hands out the chunks of one point to the thread that prints hits (which takes them in
/// order) and to a helper thread that works ahead of it, at most `limit` chunks ahead, so
/// that at most that many chunks' hits wait in memory. A chunk is worked on by one thread
/// only: the printing thread works on the next one itself when the helper has not taken it.
final class ChunkLookahead<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private let limit: Int
    /// The next chunk not yet taken by either thread.
    private var next = 0
    /// The chunk the printing thread waits for or works on next.
    private var wanted = 0
    private var done: [Int: Value] = [:]
    private var stopped = false
    private var helperWaits = false

    init(count: Int, limit: Int) {
        self.count = count
        self.limit = limit
    }

    /// For the helper: the next chunk to work on, or nil once there is none or `stop` was
    /// called. Waits while it is `limit` chunks ahead.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        if !stopped && next < count && next >= wanted + limit {
            // Woken only once half the room is free again, not at every chunk taken.
            helperWaits = true
            while !stopped && next < count && next > wanted + limit / 2 { condition.wait() }
            helperWaits = false
        }
        guard !stopped && next < count else { return nil }
        next += 1
        return next - 1
    }

    /// For the helper: what it made of chunk `i`.
    func finish(_ i: Int, _ value: Value) {
        condition.lock()
        done[i] = value
        condition.broadcast()
        condition.unlock()
    }

    /// For the printing thread, in order: the helper's value for chunk `i` (waiting for it
    /// while the helper works on it), or nil when no thread has taken it: the caller does.
    func take(_ i: Int) -> Value? {
        condition.lock()
        defer { condition.unlock() }
        wanted = i
        if helperWaits && next <= wanted + limit / 2 { condition.broadcast() }
        while true {
            if let value = done.removeValue(forKey: i) { return value }
            if next <= i {
                next = i + 1
                return nil
            }
            condition.wait()
        }
    }

    /// Lets the helper end after the chunk it works on.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
