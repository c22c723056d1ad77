import ArgumentParser
import SnapdexCore

struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points",
        abstract: "List restore points (indexes).",
        discussion: """
            Shows each point's id (a unique prefix; any unique prefix works wherever a point is \
            named), source, time, kind, entries, catalog bytes (its own and shared with other \
            points), its status ("partial" when some paths could not be read when it was indexed: \
            `ls` and `info` name them; else "ok"), why retention keeps it now ("expires" when the \
            next expire would remove it) and whether its snapshot directory still exists.

            Points are named by id prefix, SOURCE@latest, or SOURCE@TIME (the newest point at \
            or before TIME; a date alone means the end of that day).

            Examples:
              snapdex points
              snapdex points --source home --json

            EXIT STATUS: 0 listed; 1 no repository or unknown source.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Option(help: "Only this source's points.", completion: .sourceName)
    var source: String?
    @Flag(help: "Print JSON Lines, one object per point.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        if let source { _ = try repo.source(named: source) }
        let points = try repo.points(source: source)
        let sizes = try repo.catalogSizes()
        let short = try repo.shortIDs()
        let plan = Dictionary(uniqueKeysWithValues: repo.retentionPlan(of: points, now: .now).map { ($0.candidate.id, $0.reasons) })
        var folders: [String: Bool] = [:]  // points of a source often share their snapshot folder
        let out = Output.current
        let width = Format.idWidth(points.map(\.id), short: short)
        var rows = [["ID", "SOURCE", "TIME", "KIND", "ENTRIES", "STATUS", "CATALOG", "SHARED", "RETAIN", "SNAPSHOT"]]
        for p in points {
            let (own, shared) = sizes[p.id] ?? (0, 0)
            let exists = folders[p.snapshot] ?? p.snapshotExists
            folders[p.snapshot] = exists
            let reasons = plan[p.id] ?? []
            if json {
                var o = JSONObject()
                o.string("id", p.id)
                o.string("source", p.source)
                o.string("time", p.pointTime.exactRFC3339())
                o.string("kind", p.kind)
                o.string("label", p.label)
                o.number("entries", p.entries)
                o.number("files", p.files)
                o.string("status", p.status)
                o.number("unreadable", p.unreadable)
                o.number("bytes", own + p.manifestBytes)
                o.number("shared_bytes", shared)
                o.string("retain_until", p.retainUntil.map { Timestamp(nanoseconds: $0).retainUntilText })
                o.strings("retention", reasons)
                o.string("indexed_at", Timestamp(nanoseconds: p.indexedAt).rfc3339())
                o.string("snapshot", p.snapshot)
                o.bool("snapshot_exists", exists)
                out.line(bytes: o.encoded)
            } else {
                rows.append([String(p.id.prefix(width)), p.source, TimeDisplay.exactText(p.pointTime), p.kind, "\(p.entries)", p.status,
                             Format.bytes(UInt64(own + p.manifestBytes)), Format.bytes(UInt64(shared)),
                             reasons.isEmpty ? "expires" : reasons.joined(separator: ", "),
                             p.snapshot + (exists ? "" : " (gone)")])
            }
        }
        if !json {
            if points.isEmpty { out.line("no restore points" + (source.map { " for \($0)" } ?? "")) } else {
                Format.table(rows, rightAligned: [4, 6, 7]).forEach(out.line)
            }
        }
    }
}
