import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct FindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find entries by name across restore points.",
        discussion: """
            Matches PATTERN (a shell glob) against each entry's name, or with --path against its \
            whole path from the snapshot root; --regex takes a regular expression instead. Searches \
            every point of every source unless narrowed. A catalog chunk that several points share \
            is read and matched once. Each hit shows the point, its time, the path, size and mtime.

            Examples:
              snapdex find 'budget*.xlsx'
              snapdex find '*.conf' --source web --newer 2026-11-01 --type f --json
              snapdex find '^/alice/.*\\.md$' --regex --path --latest-only

            EXIT STATUS: 0 searched (whether or not anything matched); 1 failure; 2 bad option.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The glob (or with --regex, the regular expression) to match.")
    var pattern: String
    @Option(help: "Only this source's points.")
    var source: String?
    @Option(help: "Only this point.")
    var point: String?
    @OptionGroup var filters: FindFilters
    @Flag(help: "Only the newest point of each source.")
    var latestOnly = false
    @Flag(help: "Print JSON Lines, one object per hit.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let query = try filters.query(pattern)
        var points: [PointRecord]
        if let point {
            points = [try repo.resolve(point)]
        } else {
            if let source { _ = try repo.source(named: source) }
            points = try repo.points(source: source)
        }
        if latestOnly { points = Dictionary(grouping: points, by: \.source).values.compactMap { $0.max { $0.time < $1.time } }.sorted { $0.source < $1.source } }
        let out = Output.current
        let short = try repo.shortIDs()
        try repo.find(query, in: points) { hit in
            if json {
                var o = EntryJSON.object(hit.entry, dir: PathBytes.split(hit.path).dir, state: false)
                o.string("point", hit.point.id)
                o.string("source", hit.point.source)
                o.string("point_time", hit.point.pointTime.rfc3339())
                out.line(bytes: o.encoded)
            } else {
                let mtime = String(Timestamp(nanoseconds: hit.entry.mtime).localDisplay().prefix(16))
                out.line(bytes: Array("\(short[hit.point.id] ?? hit.point.id)  \(hit.point.source)@\(hit.point.pointTime.rfc3339())  ".utf8)
                    + Format.quoted(PathBytes.display(hit.path)) + Array("  \(hit.entry.size)  \(mtime)".utf8))
            }
        }
    }
}

/// How `find` matches; shared by `find` and the shell's `find`.
struct FindFilters: ParsableArguments {
    @Flag(help: "Match the whole path from the root instead of the name.")
    var path = false
    @Flag(help: "PATTERN is a regular expression.")
    var regex = false
    @Option(help: ArgumentHelp("Only this type: f (file), d (dir), l (symlink), p (fifo), s (socket), c, b.", valueName: "type"))
    var type: String?
    @Option(help: ArgumentHelp("Size above (+N) or below (-N) N bytes; suffixes k, M, G.", valueName: "+N|-N"))
    var size: String?
    @Option(help: ArgumentHelp("Only entries modified after this time.", valueName: "time"))
    var newer: String?
    @Option(help: ArgumentHelp("Only entries modified before this time.", valueName: "time"))
    var older: String?

    func query(_ pattern: String) throws -> FindQuery {
        try SearchOptions.query(pattern: pattern, path: path, regex: regex, type: type, size: size, newer: newer, older: older)
    }
}

enum SearchOptions {
    static func query(pattern: String, path: Bool, regex: Bool, type: String?, size: String?, newer: String?, older: String?) throws -> FindQuery {
        var q = FindQuery(pattern: regex ? try FindQuery.regex(pattern, path: path) : .glob(pattern, path: path))
        if let type {
            guard let t = EntryType.allCases.first(where: { String($0.letter) == type || $0.word == type || (type == "f" && $0 == .file) }) else {
                throw SnapdexError.invalidArgument("--type takes f, d, l, p, s, c or b, not '\(type)'")
            }
            q.type = t
        }
        if let size {
            let sign = size.first
            guard sign == "+" || sign == "-", let n = parseSize(String(size.dropFirst())) else {
                throw SnapdexError.invalidArgument("--size takes +N or -N (bytes, or with k, M, G), not '\(size)'")
            }
            if sign == "+" { q.larger = n } else { q.smaller = n }
        }
        q.newer = try parseTime(newer)
        q.older = try parseTime(older)
        return q
    }

    static func parseSize(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["k": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = s.last, let m = units[last] { return UInt64(s.dropLast()).map { $0 * m } }
        return UInt64(s)
    }
}

struct VersionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "Show each distinct version of a path across a source's points.",
        discussion: """
            One row per version (by type, size, mtime and hash when recorded): the first and last \
            point that hold it and how many. Rows marked "absent" are gaps where the path did not exist.

            Examples:
              snapdex versions home /alice/docs/budget.xlsx
              snapdex versions home /etc/hosts --json

            EXIT STATUS: 0 shown; 1 unknown source or the path is in no point.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The source.")
    var source: String
    @Argument(help: "The path within the snapshots.")
    var path: String
    @Flag(help: "Print JSON Lines, one object per version.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let rel = try PathArgument.parse(path)
        let rows = try repo.versions(source: source, path: rel)
        guard !rows.isEmpty else { throw SnapdexError.pathNotFound(point: "any point of \(source)", path: path) }
        let out = Output.current
        let short = try repo.shortIDs()
        var table = [["FIRST", "LAST", "POINTS", "TYPE", "SIZE", "MTIME", "HASH"]]
        for r in rows {
            if json {
                var o = JSONObject()
                o.string("first_point", r.first.id)
                o.string("first_time", r.first.pointTime.rfc3339())
                o.string("last_point", r.last.id)
                o.string("last_time", r.last.pointTime.rfc3339())
                o.number("points", r.count)
                o.bool("exists", r.entry != nil)
                if let e = r.entry {
                    o.string("type", e.type.word)
                    o.number("size", e.size)
                    o.string("mtime", Timestamp(nanoseconds: e.mtime).rfc3339(fraction: true))
                    o.string("hash", e.hash?.hex)
                }
                out.line(bytes: o.encoded)
            } else {
                let first = "\(short[r.first.id] ?? r.first.id) \(r.first.pointTime.localDisplay())"
                let last = "\(short[r.last.id] ?? r.last.id) \(r.last.pointTime.localDisplay())"
                if let e = r.entry {
                    table.append([first, last, "\(r.count)", e.type.word, "\(e.size)",
                                  Timestamp(nanoseconds: e.mtime).localDisplay(), e.hash.map { String($0.hex.prefix(12)) } ?? "-"])
                } else {
                    table.append([first, last, "\(r.count)", "absent", "", "", ""])
                }
            }
        }
        if !json { Format.table(table, rightAligned: [2, 4]).forEach(out.line) }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two restore points.",
        discussion: """
            Walks both catalogs in order, a chunk at a time. Lines start with + (added), \
            - (removed) or M (changed, with the fields that changed).

            Examples:
              snapdex diff home@2026-11-20 home@latest /alice
              snapdex diff 3fa9c1d2 7be01c44 --json

            EXIT STATUS: 0 compared; 1 unknown point or path.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The older point.")
    var pointA: String
    @Argument(help: "The newer point.")
    var pointB: String
    @Argument(help: "Only this subtree.")
    var path: String = "/"
    @Flag(help: "Print JSON Lines, one object per difference.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let a = try repo.resolve(pointA), b = try repo.resolve(pointB)
        let rel = try PathArgument.parse(path)
        let out = Output.current
        var counts = [DiffEntry.Kind: Int]()
        try repo.diff(a, b, path: rel) { d in
            counts[d.kind, default: 0] += 1
            if json {
                var o = JSONObject()
                o.string("change", d.kind.rawValue)
                let p = PathBytes.display(d.path)
                o.string("path", bytes: p)
                if !EntryJSON.isUTF8(p) { o.string("path_b64", Data(p).base64EncodedString()) }
                o.strings("fields", d.fields)
                if let e = d.old { o.raw("old", json: EntryJSON.object(e, dir: PathBytes.split(d.path).dir, state: false).encoded) }
                if let e = d.new { o.raw("new", json: EntryJSON.object(e, dir: PathBytes.split(d.path).dir, state: false).encoded) }
                out.line(bytes: o.encoded)
            } else {
                let mark = d.kind == .added ? "+" : d.kind == .removed ? "-" : "M"
                let suffix = d.fields.isEmpty ? "" : "  (\(d.fields.joined(separator: ", ")))"
                out.line(bytes: Array("\(mark) ".utf8) + Format.quoted(PathBytes.display(d.path)) + Array(suffix.utf8))
            }
        }
        if !json {
            out.line("\(counts[.added] ?? 0) added, \(counts[.removed] ?? 0) removed, \(counts[.changed] ?? 0) changed")
        }
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show every recorded field of one entry, in the style of stat.",
        discussion: """
            Examples:
              snapdex info home@latest /alice/docs/budget.xlsx
              snapdex info 3fa9c1d2 / --json

            EXIT STATUS: 0 shown; 1 unknown point or path.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point.")
    var point: String
    @Argument(help: "The path within the snapshot.")
    var path: String
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let rel = try PathArgument.parse(path)
        guard let e = try repo.reader(for: p).entry(at: rel) else {
            throw SnapdexError.pathNotFound(point: point, path: path)
        }
        let out = Output.current
        if json {
            out.line(bytes: EntryJSON.encode(e, dir: PathBytes.split(rel).dir))
            return
        }
        out.line(bytes: Array("  Path: ".utf8) + Format.quoted(PathBytes.display(rel)))
        if e.type == .symlink { out.line(bytes: Array("Target: ".utf8) + Format.quoted(e.target)) }
        out.line("  Type: \(e.type.word)")
        out.line("  Size: \(e.size)")
        out.line("  Mode: \(Format.octalMode(e.permissions)) (\(Format.permissions(e)))")
        out.line("   Uid: \(e.uid)   Gid: \(e.gid)")
        out.line(" Inode: \(e.inode)   Links: \(e.nlink)")
        if e.type == .charDevice || e.type == .blockDevice { out.line("Device: \(e.device >> 8 & 0xfff),\(e.device & 0xff)") }
        out.line("Modify: \(Timestamp(nanoseconds: e.mtime).rfc3339(fraction: true))")
        out.line("Change: \(Timestamp(nanoseconds: e.ctime).rfc3339(fraction: true))")
        out.line("SHA256: \(e.hash?.hex ?? "-")")
        if e.type == .directory { out.line("  Tree: \(e.children) children, \(e.treeFiles) files, \(e.treeBytes) bytes") }
        out.line(" Point: \(p.id) (\(p.source)@\(p.pointTime.rfc3339()))")
    }
}

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a file's bytes, as the point recorded it, to standard output.",
        discussion: """
            Reads the file from the snapshot directory the point was indexed from, after \
            checking it still matches the catalog (size, mtime).

            Examples:
              snapdex cat home@2026-11-19 /etc/hosts > hosts.old

            EXIT STATUS: 0 written; 1 unknown point or path, the snapshot is gone, or its file changed.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point.")
    var point: String
    @Argument(help: "The file's path within the snapshot.")
    var path: String
    @Flag(help: "Write it even if the snapshot's file no longer matches the catalog.")
    var noVerify = false

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let (fd, _) = try repo.openSnapshotFile(point: p, path: try PathArgument.parse(path), verify: !noVerify)
        defer { close(fd) }
        let out = Output.current
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            out.write(Array(buf[0..<n]))
        }
    }
}

enum PathArgument {
    static func parse(_ text: String) throws -> [UInt8] {
        guard let p = PathBytes.normalize(text) else {
            throw SnapdexError.invalidArgument("path \(text) climbs above the snapshot root")
        }
        return p
    }
}
