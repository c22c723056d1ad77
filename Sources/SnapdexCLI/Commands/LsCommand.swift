import ArgumentParser
import Foundation
import SnapdexCore

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List a directory of a restore point.",
        // -h is ls's --human-readable, as in GNU ls; help stays --help.
        discussion: """
            Lists PATH (default /) as it was in POINT, reading only the catalog blocks that hold \
            it. Odd names are quoted the way GNU ls quotes them. With --json, prints JSON Lines, \
            one object per entry (fields in docs/JSON.md); paths that are not valid UTF-8 also \
            get path_b64 with their exact bytes.

            In a partial point (see `snapdex points`), a directory that could not be read when \
            it was indexed is listed empty with a warning saying so on standard error, and a \
            path under it is an error that says why it is missing.

            Examples:
              snapdex ls home@latest /alice/docs -l
              snapdex ls home@latest /alice/docs -lh
              snapdex ls 3fa9c1d2 / -R --json
              snapdex ls home@2026-11-19 /etc/hosts -l

            EXIT STATUS: 0 listed; 1 unknown point or path, or a path that could not be read when indexed.
            """,
        helpNames: [.long])

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point: id prefix, SOURCE@latest or SOURCE@TIME.", completion: .pointReference)
    var point: String
    @Argument(help: "The path within the snapshot.", completion: .catalogPath)
    var path: String = "/"
    @Flag(name: .short, help: "Long format: type and permissions, links, owner, size, mtime.")
    var long = false
    @Flag(name: [.customShort("h"), .long], help: "With -l, sizes in powers of 1024 (4.0K, 12M), as GNU ls -lh.")
    var humanReadable = false
    @Flag(name: .customShort("R"), help: "List subdirectories recursively.")
    var recursive = false
    @Flag(help: "Print JSON Lines, one object per entry.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let rel = try PathArgument.parse(path)
        let out = Output.current
        let reader = try repo.reader(for: p)
        // What could not be read when the point was indexed: a result, so printed even with -q.
        let unreadable = Dictionary(reader.manifest.unreadable.listed.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var noted = Set<[UInt8]>()
        func note(_ dir: [UInt8]) {
            for u in reader.unreadable(at: dir) where noted.insert(u.path).inserted { out.error("snapdex: warning: \(u.note)") }
        }
        var firstGroup = true
        try repo.list(reader: reader, pointName: String(p.id.prefix(12)), path: rel, recursive: recursive) { group in
            defer { if recursive { note(group.path) } }
            if json {
                for e in group.entries {
                    var o = EntryJSON.object(e, dir: group.path)
                    if let u = unreadable[PathBytes.join(group.path, e.name)] {
                        o.string("unreadable", u.what.word)
                        o.string("unreadable_error", "\(u.errno)")
                    }
                    out.line(bytes: o.encoded)
                }
                return
            }
            if recursive {
                if !firstGroup { out.line("") }
                out.line(bytes: Format.quoted(PathBytes.display(group.path)) + Array(":".utf8))
            }
            firstGroup = false
            for e in group.entries { out.line(bytes: long ? LongFormat.line(e, human: humanReadable) : Format.quoted(e.name)) }
        }
        out.flush()
        if !recursive { note(rel) }
    }
}
