import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `find` looks for.
public struct FindQuery {
    public enum Pattern {
        /// fnmatch(3) glob on the name, or with `path` on the whole path from the root.
        case glob(String, path: Bool)
        case regex(Regex<AnyRegexOutput>, path: Bool)
    }
    public var pattern: Pattern
    public var type: EntryType?
    /// Size strictly above / below (find's `-size +N` / `-size -N`).
    public var larger: UInt64?
    public var smaller: UInt64?
    public var newer: Timestamp?
    public var older: Timestamp?

    public init(pattern: Pattern) { self.pattern = pattern }

    public static func regex(_ text: String, path: Bool) throws -> Pattern {
        do {
            return .regex(try Regex(text), path: path)
        } catch {
            throw SnapdexError.invalidArgument("cannot read the regular expression '\(text)': \(error)")
        }
    }

    public func matches(dir: [UInt8], _ e: FileEntry) -> Bool {
        if e.name.isEmpty { return false }
        if let type, e.type != type { return false }
        if let larger, e.size <= larger { return false }
        if let smaller, e.size >= smaller { return false }
        if let newer, e.mtime <= newer.nanoseconds { return false }
        if let older, e.mtime >= older.nanoseconds { return false }
        switch pattern {
        case .glob(let g, let path):
            let subject = path ? PathBytes.display(PathBytes.join(dir, e.name)) : e.name
            return FS.withCName(subject) { fnmatch(g, $0, 0) == 0 }
        case .regex(let r, let path):
            let subject = path ? PathBytes.display(PathBytes.join(dir, e.name)) : e.name
            return String(decoding: subject, as: UTF8.self).contains(r)
        }
    }
}

/// One entry `find` found, in one point.
public struct FindHit {
    public var point: PointRecord
    public var path: [UInt8]
    public var entry: FileEntry
}

extension Repository {
    /// Searches the given points (oldest source first, each in time order) and calls `body`
    /// for each hit. A chunk that several points share is decoded and matched once per run.
    public func find(_ query: FindQuery, in points: [PointRecord], _ body: (FindHit) throws -> Void) throws {
        var matched: [ChunkCache.Key: [(dir: [UInt8], entry: FileEntry)]] = [:]
        let noCache = ChunkCache(limit: 1)
        for point in points {
            let reader = try self.reader(for: point, cache: noCache)
            for i in reader.manifest.chunks.indices {
                let key = ChunkCache.key(reader.manifest.chunks[i], .content)
                let hits: [(dir: [UInt8], entry: FileEntry)]
                if let known = matched[key] {
                    hits = known
                } else {
                    var found: [(dir: [UInt8], entry: FileEntry)] = []
                    for g in try reader.chunk(i, level: .content) {
                        for e in g.entries where query.matches(dir: g.path, e) { found.append((g.path, e)) }
                    }
                    matched[key] = found
                    hits = found
                }
                for h in hits { try body(FindHit(point: point, path: PathBytes.join(h.dir, h.entry.name), entry: h.entry)) }
            }
        }
    }
}
