import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two restore points.",
        discussion: """
            Walks both catalogs in order, a chunk at a time. Lines start with + (added), \
            - (removed) or M (changed, with the fields that changed). Paths a partial point \
            could not read are named on standard error: what changed there is not known.

            Examples:
              snapdex diff home@2026-11-20 home@latest /alice
              snapdex diff 3fa9c1d2 7be01c44 --json

            EXIT STATUS: 0 compared; 1 unknown point or path.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The older point.", completion: .pointReference)
    var pointA: String
    @Argument(help: "The newer point.", completion: .pointReference)
    var pointB: String
    @Argument(help: "Only this subtree.", completion: .catalogPath)
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
                if d.kind == .changed { o.strings("fields", d.fields) }
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
        // A partial point lacks what it could not read: what differs there is not known.
        for p in [a, b] where p.unreadable > 0 {
            for u in try repo.manifest(of: p).unreadable.listed where PathBytes.isWithin(u.path, rel) {
                out.error("snapdex: warning: in \(String(p.id.prefix(12))): \(u.note); changes there are not known")
            }
        }
    }
}
