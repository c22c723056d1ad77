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
            whole path from the snapshot root; --regex takes a regular expression instead (its '.' \
            matches a newline too, as names may hold one). Searches every point of every source \
            unless narrowed. A catalog chunk that several points share is read and matched once. \
            Each hit shows the point id, source, point time, size (exact \
            bytes in --json), mtime and path, under a header; -i matches either case. An invalid \
            glob (an unclosed '[') or regular expression is a usage error. An mtime a catalog \
            older than format 3 kept only as a bound (shown 'at or after 2262-04-11 23:47:16...' \
            or 'at or before 1677-09-21 ...') matches --newer and --older only when every time \
            it stands for does. --newer and --older take any time a catalog holds (stat's 64-bit \
            seconds), years past 9999 or before 0001 written as ls prints them (+10000-01-01Z, \
            0000-01-01Z).

            With --deleted, lists instead what was deleted under PATH (default /): every path that \
            an earlier point of a source holds and its newest point lacks, with the last point \
            that holds it (restore it from there). --type, --size, --newer and --older narrow it; \
            paths the newest point could not read (a partial point) are not called deleted.

            Examples:
              snapdex find 'budget*.xlsx'
              snapdex find '*.conf' --source web --newer 2026-11-01 --type f --json
              snapdex find '^/alice/.*\\.md$' --regex --path --latest-only
              snapdex find --deleted /alice/docs --source home

            EXIT STATUS: 0 searched (whether or not anything matched; points expired or forgotten \
            meanwhile are skipped with a warning); 1 failure; 2 bad option; 3 damaged catalog.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: ArgumentHelp("The glob (or with --regex, the regular expression) to match; with --deleted, the folder to look in (default /).",
                                 valueName: "pattern"))
    var pattern: String?
    @Option(help: "Only this source's points.", completion: .sourceName)
    var source: String?
    @Option(help: "Only this point.", completion: .pointReference)
    var point: String?
    @OptionGroup var filters: FindFilters
    @Flag(help: "Only the newest point of each source.")
    var latestOnly = false
    @Flag(help: "List what was deleted: paths in earlier points that the newest point of their source lacks.")
    var deleted = false
    @Flag(help: "Print JSON Lines, one object per hit.")
    var json = false

    func validate() throws {
        if deleted {
            if point != nil || latestOnly { throw ValidationError("--deleted compares each source's points with its newest; it takes no --point or --latest-only") }
            if filters.path || filters.regex { throw ValidationError("--deleted takes a folder, not a pattern: drop --path and --regex") }
        } else if pattern == nil {
            throw ValidationError("give a PATTERN to match (or --deleted to list what was deleted)")
        }
    }

    func run() throws {
        let repo = try repository.open()
        if deleted { return try runDeleted(repo) }
        let query = try filters.query(pattern ?? "*")
        var points: [PointRecord]
        if let point {
            points = [try repo.resolve(point)]
        } else {
            if let source { _ = try repo.source(named: source) }
            points = try repo.points(source: source)
        }
        if latestOnly { points = Dictionary(grouping: points, by: \.source).values.compactMap { $0.max { ($0.time, $0.id) < ($1.time, $1.id) } }.sorted { $0.source < $1.source } }
        let out = Output.current
        let short = try repo.shortIDs()
        // Hits are printed as they are found, so the columns are sized from what is known
        // before the search: the ids and sources of the points searched; times have one width.
        let width = Format.idWidth(points.map(\.id), short: short)
        let columns = FindColumns(idWidth: max(2, width),
                                  sourceWidth: max(6, points.map(\.source.count).max() ?? 0))
        var headed = false
        let skipped = try repo.find(query, in: points) { hit in
            if json {
                var o = EntryJSON.object(hit.entry, dir: PathBytes.split(hit.path).dir, state: false)
                o.string("point", hit.point.id)
                o.string("source", hit.point.source)
                o.string("point_time", hit.point.pointTime.exactRFC3339())
                out.line(bytes: o.encoded)
            } else {
                if !headed {
                    out.line(columns.header)
                    headed = true
                }
                out.line(bytes: columns.row(hit, id: String(hit.point.id.prefix(width))))
            }
        }
        // Not damage: a concurrent expire or forget removed these while they were searched.
        for id in skipped { Log.warning("skipped: \(SnapdexError.pointExpired(String(id.prefix(12))))") }
    }

    private func runDeleted(_ repo: Repository) throws {
        let root = try PathArgument.parse(pattern ?? "/")
        let query = try filters.query("*")
        let out = Output.current
        let short = try repo.shortIDs()
        if let source { _ = try repo.source(named: source) }
        let points = try repo.points(source: source)
        let idWidth = max(2, points.map { (short[$0.id] ?? $0.id).count }.max() ?? 0)
        let sourceWidth = max(6, points.map(\.source.count).max() ?? 0)
        let timeWidth = FindColumns.timeWidth
        var headed = false
        try repo.deleted(source: source, under: root, matching: query) { hit in
            let last = hit.lastPoint
            if json {
                var o = EntryJSON.object(hit.entry, dir: PathBytes.split(hit.path).dir, state: false)
                o.string("point", last.id)
                o.string("source", last.source)
                o.string("point_time", last.pointTime.exactRFC3339())
                o.string("deleted_point", hit.goneIn.id)
                o.string("deleted_time", hit.goneIn.pointTime.exactRFC3339())
                out.line(bytes: o.encoded)
                return
            }
            if !headed {
                out.line([Format.pad("ID", idWidth), Format.pad("SOURCE", sourceWidth), Format.pad("LAST POINT", timeWidth),
                          Format.pad("SIZE", FindColumns.sizeWidth, right: true), Format.pad("MTIME", timeWidth),
                          Format.pad("DELETED BY", timeWidth), "PATH"].joined(separator: "  "))
                headed = true
            }
            let size = hit.entry.type == .directory ? "-" : Format.bytes(hit.entry.size)
            let text = [Format.pad(short[last.id] ?? last.id, idWidth), Format.pad(last.source, sourceWidth), TimeDisplay.text(last.pointTime),
                        Format.pad(size, FindColumns.sizeWidth, right: true), TimeDisplay.text(hit.entry.mtime),
                        TimeDisplay.text(hit.goneIn.pointTime), ""].joined(separator: "  ")
            out.line(bytes: Array(text.utf8) + Format.quoted(PathBytes.display(hit.path)))
        }
    }
}

/// `find`'s human columns, aligned like `points`: id, source, point time, size (human), mtime,
/// then the path (last, as it has no width).
struct FindColumns {
    var idWidth: Int
    var sourceWidth: Int
    static let sizeWidth = 10

    var header: String {
        [Format.pad("ID", idWidth), Format.pad("SOURCE", sourceWidth), Format.pad("POINT TIME", FindColumns.timeWidth),
         Format.pad("SIZE", FindColumns.sizeWidth, right: true), Format.pad("MTIME", FindColumns.timeWidth), "PATH"].joined(separator: "  ")
    }


    func row(_ hit: FindHit, id: String) -> [UInt8] {
        let size = hit.entry.type == .directory ? "-" : Format.bytes(hit.entry.size)
        let text = [Format.pad(id, idWidth), Format.pad(hit.point.source, sourceWidth), TimeDisplay.text(hit.point.pointTime),
                    Format.pad(size, FindColumns.sizeWidth, right: true), TimeDisplay.text(hit.entry.mtime), ""]
            .joined(separator: "  ")
        return Array(text.utf8) + Format.quoted(PathBytes.display(hit.path))
    }

    /// Every time has this width: `YYYY-MM-DD HH:MM:SS +HHMM`.
    static let timeWidth = 25
}

/// How `find` matches; shared by `find` and the shell's `find`.
struct FindFilters: ParsableArguments {
    @Flag(help: "Match the whole path from the root instead of the name.")
    var path = false
    @Flag(help: "PATTERN is a regular expression.")
    var regex = false
    @Flag(name: [.customShort("i"), .long], help: "Match letters of either case (glob or regular expression).")
    var ignoreCase = false
    @Option(help: ArgumentHelp("Only this type: f (file), d (dir), l (symlink), p (fifo), s (socket), c, b.", valueName: "type"))
    var type: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Size above (+N) or below (-N) N bytes; suffixes k, M, G, T.", valueName: "+N|-N"))
    var size: String?
    // Unconditional: a year before 0000 starts with a minus (`--older -0001-01-01T00:00Z`).
    @Option(parsing: .unconditional, help: ArgumentHelp("Only entries modified after this time (ISO 8601; a date alone means its midnight, as find -newermt).", valueName: "time"))
    var newer: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Only entries modified before this time (ISO 8601; a date alone means its midnight).", valueName: "time"))
    var older: String?

    func query(_ pattern: String) throws -> FindQuery {
        try SearchOptions.query(pattern: pattern, path: path, regex: regex, ignoreCase: ignoreCase, type: type, size: size, newer: newer, older: older)
    }
}

enum SearchOptions {
    static func query(pattern: String, path: Bool, regex: Bool, ignoreCase: Bool = false, type: String?, size: String?,
                      newer: String?, older: String?) throws -> FindQuery {
        var q = FindQuery(pattern: regex ? try FindQuery.regex(pattern, path: path, ignoreCase: ignoreCase) : try FindQuery.glob(pattern, path: path),
                          ignoreCase: ignoreCase)
        if let type {
            guard let t = EntryType.allCases.first(where: { String($0.letter) == type || $0.word == type || (type == "f" && $0 == .file) }) else {
                throw SnapdexError.invalidArgument("--type takes f, d, l, p, s, c or b, not '\(type)'")
            }
            q.type = t
        }
        if let size {
            let sign = size.first
            guard sign == "+" || sign == "-", let n = parseSize(String(size.dropFirst())) else {
                throw SnapdexError.invalidArgument("--size takes +N or -N (bytes, or with k, M, G or T; below 16 EiB), not '\(size)'")
            }
            if sign == "+" { q.larger = n } else { q.smaller = n }
        }
        q.newer = try newer.map { try TimeParser.readFileTime($0, option: "--newer") }
        q.older = try older.map { try TimeParser.readFileTime($0, option: "--older") }
        return q
    }

    static func parseSize(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["k": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = s.last, let m = units[last] {
            guard let n = UInt64(s.dropLast()) else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: m)
            return overflow ? nil : v
        }
        return UInt64(s)
    }
}
