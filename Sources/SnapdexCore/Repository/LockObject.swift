import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a writer on object storage keeps others from doing while it runs. Index runs (and
/// source settings) of different sources run at once; expire, forget, gc, `policy set
/// --apply-to-existing` and `source remove` run alone.
public enum LockScope: Equatable, Sendable {
    case source(String)
    case exclusive

    func conflicts(with other: LockScope) -> Bool {
        switch (self, other) {
        case (.source(let a), .source(let b)): return a == b
        default: return true
        }
    }

    var text: String {
        switch self {
        case .source(let s): return "writing source '\(s)'"
        case .exclusive: return "changing points of every source"
        }
    }
}

/// A writer's lock on a repository in object storage: the object `locks/ID`, holding its
/// owner (host, pid), when it started, its last heartbeat and when it expires. A live writer
/// rewrites it (heartbeat) long before it expires; a lock past its expiry belongs to a writer
/// that died, and is ignored (and named).
///
/// Taking one: list the locks; if a live one conflicts, wait. Else write ours, list again,
/// and if a live conflicting one appeared meanwhile, remove ours and wait (with jitter). Of
/// two writers that both write theirs, the later one's listing sees the earlier one's lock, so
/// at most one of two conflicting writers goes on.
public final class LockObject: @unchecked Sendable {
    public struct Record: Codable, Equatable, Sendable {
        public var id: String
        /// "exclusive", or "source" with `source` set.
        public var scope: String
        public var source: String?
        public var host: String
        public var pid: Int32
        public var startedSeconds: Int64
        public var heartbeatSeconds: Int64
        public var expiresSeconds: Int64
    }

    /// How long after its last heartbeat a lock is presumed dead: 120 s. Tests of hosts that
    /// die set `SNAPDEX_LOCK_LIFETIME` (seconds, at least 4) in the writer they kill, so that
    /// its lock expires within the test (like `SNAPDEX_CRASH_AT`, not for people).
    public static let lifetime: Int64 = ProcessInfo.processInfo.environment["SNAPDEX_LOCK_LIFETIME"]
        .flatMap { Int64($0) }.map { max(4, $0) } ?? 120
    /// Seconds between heartbeats: eight to a lifetime, so a few lost rewrites do not expire it.
    public static let heartbeatInterval: Int64 = max(1, lifetime / 8)

    let store: any ObjectStore
    public private(set) var record: Record
    public let scope: LockScope
    public var key: String { "locks/" + record.id }
    public var startedSeconds: Int64 { record.startedSeconds }
    private let condition = NSCondition()
    private var stopped = false
    private var beating: Thread?

    init(store: any ObjectStore, record: Record, scope: LockScope) {
        self.store = store
        self.record = record
        self.scope = scope
    }

    public static var nowSeconds: Int64 { Int64(Date().timeIntervalSince1970) }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Every lock object in the store that decodes; others are ignored. `skipping` (the
    /// caller's own lock, which it knows) is not fetched.
    static func all(in store: any ObjectStore, skipping: String? = nil) throws -> [LockObject] {
        var out: [LockObject] = []
        for info in try store.list(prefix: "locks/") where info.key != skipping {
            guard let bytes = try store.get(info.key), let r = try? JSONDecoder().decode(Record.self, from: Data(bytes)),
                  "locks/" + r.id == info.key else { continue }
            let scope: LockScope = r.scope == "source" ? .source(r.source ?? "") : .exclusive
            out.append(LockObject(store: store, record: r, scope: scope))
        }
        return out
    }

    /// Past its expiry, or held by a process of this host that is gone (killed): no need to
    /// wait out the expiry for a writer this host knows is dead.
    public func isStale(now: Int64 = LockObject.nowSeconds) -> Bool {
        if record.expiresSeconds < now { return true }
        return record.host == LockObject.hostName() && record.pid > 0 && kill(record.pid, 0) != 0 && errno == ESRCH
    }

    /// The lock as messages name it.
    public var description: String {
        "\(key) (\(scope.text), host \(record.host), pid \(record.pid), since \(LockObject.time(record.startedSeconds)))"
    }

    static func time(_ seconds: Int64) -> String { Timestamp(nanoseconds: seconds * 1_000_000_000).rfc3339() }

    static func acquire(_ scope: LockScope, in store: any ObjectStore, wait: Double, note: (String) -> Void) throws -> LockObject {
        let deadline = Date().addingTimeInterval(min(max(wait.isNaN ? 0 : wait, 0), WriterLock.maxWait))
        let now = nowSeconds
        var id = [UInt8](repeating: 0, count: 16)
        for i in id.indices { id[i] = UInt8.random(in: 0...255) }
        let record = Record(id: Hex.encode(id), scope: scope == .exclusive ? "exclusive" : "source",
                            source: { if case .source(let s) = scope { return s } else { return nil } }(),
                            host: hostName(), pid: getpid(), startedSeconds: now, heartbeatSeconds: now, expiresSeconds: now + lifetime)
        let mine = LockObject(store: store, record: record, scope: scope)
        var named = Set<String>()
        func blocker() throws -> LockObject? {
            let others = try all(in: store, skipping: mine.key).filter { $0.record.id != record.id && $0.scope.conflicts(with: scope) }
            for o in others where o.isStale() && !named.contains(o.record.id) {
                named.insert(o.record.id)
                let why = o.record.expiresSeconds < nowSeconds ? "expired at \(time(o.record.expiresSeconds)) without a heartbeat" : "belongs to a process of this host that is gone"
                note("lock \(o.description) \(why): its writer is presumed dead and the lock is ignored")
                if scope == .exclusive { try store.delete(o.key) }
            }
            return others.first { !$0.isStale() }
        }
        while true {
            let holder: LockObject
            if let h = try blocker() {
                holder = h
            } else {
                try mine.write()
                guard let h = try blocker() else {
                    mine.startHeartbeat()
                    return mine
                }
                try store.delete(mine.key)
                holder = h
            }
            guard Date() < deadline else { throw SnapdexError.repositoryBusy(location: store.location, holder: holder.description) }
            usleep(UInt32.random(in: 200_000...700_000))
        }
    }

    private func write() throws {
        try store.put(key, Array(try JSONEncoder().encode(record)))
    }

    private func startHeartbeat() {
        let t = Thread { [self] in
            condition.lock()
            defer { condition.unlock() }
            while !stopped {
                _ = condition.wait(until: Date().addingTimeInterval(Double(LockObject.heartbeatInterval)))
                if stopped { break }
                let now = LockObject.nowSeconds
                record.heartbeatSeconds = now
                record.expiresSeconds = now + LockObject.lifetime
                try? write()
            }
        }
        beating = t
        t.start()
    }

    /// Stops the heartbeat and removes the lock object.
    func release() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        try? store.delete(key)
    }
}
