import ArgumentParser
import SnapdexCore

struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points",
        abstract: "List restore points (indexes).",
        discussion: """
            Shows each point's id (a unique prefix; any unique prefix works wherever a point is \
            named), source, time, kind, entries, catalog bytes (its own and shared with other \
            points), its status ("damaged" when its manifest cannot be read: `snapdex verify` says \
            why; "missing" when its manifest is gone and no snapdex command removed it, which is \
            damage that `verify` reports; "partial" when some paths could not be read when it was \
            indexed: `ls` and `info` name them; else "ok"), why retention keeps it now ("expires" when the \
            next expire would remove it) and whether its snapshot directory still exists.

            Points are named by id prefix, SOURCE@latest, or SOURCE@TIME (the newest point at \
            or before TIME; a date alone means the end of that day).

            Examples:
              snapdex points
              snapdex points --source home --json

            EXIT STATUS: 0 listed; 1 no repository or unknown source; 3 listed, and a point's \
            manifest is damaged (the first is named on standard error).
            """)

    @OptionGroup var repository: RepositoryOptions
    @Option(help: "Only this source's points.", completion: .sourceName)
    var source: String?
    @Flag(help: "Print JSON Lines, one object per point.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        if let source { _ = try repo.source(named: source) }
        let listing = try repo.pointListing(source: source, now: .now)
        let out = Output.current
        // Every point is listed first; a damaged one then makes the exit status 3, as verify's.
        let damage = listing.rows.lazy.compactMap(\.manifestDamage).first
        if json {
            listing.rows.withUnsafeBufferPointer { rows in
                for i in rows.indices { out.line(bytes: Self.json(rows[i])) }
            }
            if let damage { throw damage }
            return
        }
        if listing.rows.isEmpty {
            out.line("no restore points" + (source.map { " for \($0)" } ?? ""))
            return
        }
        var table = TextTable(header: ["ID", "SOURCE", "TIME", "KIND", "ENTRIES", "STATUS", "CATALOG", "SHARED", "RETAIN", "SNAPSHOT"])
        var times = TimeDisplay.TextCache()
        // Rows are read in place: 10,000 copies would retain and release every string they hold.
        listing.rows.withUnsafeBufferPointer { rows in
            for i in rows.indices { Self.addRow(rows[i], idWidth: listing.idWidth, to: &table, times: &times) }
        }
        table.print(to: out, rightAligned: [4, 6, 7])
        if let damage { throw damage }
    }

    private static func addRow(_ row: borrowing PointListingRow, idWidth: Int, to table: inout TextTable, times: inout TimeDisplay.TextCache) {
        table.cell(String(row.point.id.prefix(idWidth)))
        table.cell(row.point.source)
        let (time, entries) = (row.point.pointTime, row.point.entries)
        table.cell { TimeDisplay.appendExactText(time, to: &$0, cache: &times) }
        table.cell(row.point.kind)
        table.cell { DecimalText.append(entries, to: &$0) }
        table.cell(row.status)
        let (own, shared) = (row.ownBytes + row.point.manifestBytes, row.sharedBytes)
        table.cell { Format.appendBytes(UInt64(clamping: own), to: &$0) }
        table.cell { Format.appendBytes(UInt64(clamping: shared), to: &$0) }
        if row.retention.isEmpty {
            table.cell("expires")
        } else {
            let reasons = row.retention
            table.cell { out in
                for (i, reason) in reasons.enumerated() {
                    if i > 0 { out.append(contentsOf: ", ".utf8) }
                    out.append(contentsOf: reason.utf8)
                }
            }
        }
        table.cell(row.snapshotExists ? row.point.snapshot : row.point.snapshot + " (gone)")
    }

    private static func json(_ row: borrowing PointListingRow) -> [UInt8] {
        var o = JSONObject()
        o.string("id", row.point.id)
        o.string("source", row.point.source)
        o.string("time", row.point.pointTime.exactRFC3339())
        o.string("kind", row.point.kind)
        o.string("label", row.point.label)
        o.number("entries", row.point.entries)
        o.number("files", row.point.files)
        o.string("status", row.status)
        o.number("unreadable", row.point.unreadable)
        o.number("bytes", row.ownBytes + row.point.manifestBytes)
        o.number("shared_bytes", row.sharedBytes)
        o.string("retain_until", row.point.retainUntil.map { Timestamp(nanoseconds: $0).retainUntilText })
        o.strings("retention", row.retention)
        o.string("indexed_at", Timestamp(nanoseconds: row.point.indexedAt).rfc3339())
        o.string("snapshot", row.point.snapshot)
        o.bool("snapshot_exists", row.snapshotExists)
        return o.encoded
    }
}
