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

            Examples:
              snapdex ls home@latest /alice/docs -l
              snapdex ls home@latest /alice/docs -lh
              snapdex ls 3fa9c1d2 / -R --json
              snapdex ls home@2026-11-19 /etc/hosts -l

            EXIT STATUS: 0 listed; 1 unknown point or path.
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
        var firstGroup = true
        try repo.list(point: p, path: rel, recursive: recursive) { group in
            if json {
                for e in group.entries { out.line(bytes: EntryJSON.encode(e, dir: group.path)) }
                return
            }
            if recursive {
                if !firstGroup { out.line("") }
                out.line(bytes: Format.quoted(PathBytes.display(group.path)) + Array(":".utf8))
            }
            firstGroup = false
            for e in group.entries { out.line(bytes: long ? LongFormat.line(e, human: humanReadable) : Format.quoted(e.name)) }
        }
    }
}
