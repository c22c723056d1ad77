import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct VersionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "Show each distinct version of a path across a source's points.",
        discussion: """
            One row per version (by type, size, mtime and hash when recorded): the first and last \
            point that hold it and how many. A "deleted" row follows a version that a later point \
            lacks: its FIRST is the first point without the path (after the last version too, \
            when the newest point lacks it; again each time it came back and went). A "not read" \
            row is a run of partial points that could not read the path (see `snapdex points`).

            Examples:
              snapdex versions home /alice/docs/budget.xlsx
              snapdex versions home /etc/hosts --json

            EXIT STATUS: 0 shown; 1 unknown source or the path is in no point.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The source.", completion: .sourceName)
    var source: String
    @Argument(help: "The path within the snapshots.", completion: .catalogPath)
    var path: String
    @Flag(help: "Print JSON Lines, one object per version.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let rel = try PathArgument.parse(path)
        let rows = try repo.versions(source: source, path: rel)
        guard !rows.isEmpty else { throw SnapdexError.pathInNoPoint(source: source, path: String(decoding: PathBytes.display(rel), as: UTF8.self)) }
        let out = Output.current
        let short = try repo.shortIDs()
        let width = Format.idWidth(rows.flatMap { [$0.first.id, $0.last.id] }, short: short)
        var table = [["FIRST", "LAST", "POINTS", "TYPE", "SIZE", "MTIME", "HASH"]]
        // Two versions whose mtimes share a second would print alike: then every mtime shows
        // its nanoseconds (and point times likewise).
        let mtimes = rows.compactMap { $0.entry?.mtime }
        let fineMtimes = VersionsCommand.differBelowASecond(mtimes)
        let finePoints = VersionsCommand.differBelowASecond(rows.flatMap { [FileTime($0.first.pointTime), FileTime($0.last.pointTime)] })
        for r in rows {
            if json {
                var o = JSONObject()
                o.string("first_point", r.first.id)
                o.string("first_time", r.first.pointTime.exactRFC3339())
                o.string("last_point", r.last.id)
                o.string("last_time", r.last.pointTime.exactRFC3339())
                o.number("points", r.count)
                o.bool("exists", r.entry != nil)
                o.string("state", r.entry != nil ? "present" : r.isDeleted ? "deleted" : "not_read")
                if let e = r.entry {
                    o.string("type", e.type.word)
                    o.number("size", e.size)
                    o.string("mtime", e.mtime.rfc3339(fraction: true))
                    if let b = e.mtime.boundJSON { o.string("mtime_bound", b) }
                    o.string("hash", e.hash?.hex)
                }
                out.line(bytes: o.encoded)
            } else {
                let first = "\(r.first.id.prefix(width)) \(TimeDisplay.text(r.first.pointTime, fraction: finePoints))"
                let last = "\(r.last.id.prefix(width)) \(TimeDisplay.text(r.last.pointTime, fraction: finePoints))"
                if let e = r.entry {
                    table.append([first, last, "\(r.count)", e.type.word, "\(e.size)",
                                  TimeDisplay.text(e.mtime, fraction: fineMtimes), e.hash.map { String($0.hex.prefix(12)) } ?? "-"])
                } else {
                    table.append([first, last, "\(r.count)", r.isDeleted ? "deleted" : "not read", "", "", ""])
                }
            }
        }
        if !json { Format.table(table, rightAligned: [2, 4]).forEach(out.line) }
    }

    /// Whether two of `times` are different but fall in the same second.
    static func differBelowASecond(_ times: [FileTime]) -> Bool {
        var bySecond: [Int64: FileTime] = [:]
        for t in times {
            if let other = bySecond[t.seconds], other != t { return true }
            bySecond[t.seconds] = t
        }
        return false
    }
}
