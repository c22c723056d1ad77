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
                o.string("state", r.entry != nil ? "present" : r.isDeleted ? "deleted" : "not_read")
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
                    table.append([first, last, "\(r.count)", r.isDeleted ? "deleted" : "not read", "", "", ""])
                }
            }
        }
        if !json { Format.table(table, rightAligned: [2, 4]).forEach(out.line) }
    }
}
