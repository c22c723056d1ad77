import ArgumentParser
import Foundation
import SnapdexCore

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List a directory of a restore point.",
        discussion: """
            Lists PATH (default /) as it was in POINT, reading only the catalog blocks that hold \
            it. Odd names are quoted the way GNU ls quotes them. With --json, prints JSON Lines, \
            one object per entry (fields in docs/JSON.md); paths that are not valid UTF-8 also \
            get path_b64 with their exact bytes.

            Examples:
              snapdex ls home@latest /alice/docs -l
              snapdex ls 3fa9c1d2 / -R --json
              snapdex ls home@2026-11-19 /etc/hosts -l

            EXIT STATUS: 0 listed; 1 unknown point or path.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point: id prefix, SOURCE@latest or SOURCE@TIME.")
    var point: String
    @Argument(help: "The path within the snapshot.")
    var path: String = "/"
    @Flag(name: .short, help: "Long format: type and permissions, links, owner, size, mtime.")
    var long = false
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
            for e in group.entries { out.line(bytes: long ? LongFormat.line(e) : Format.quoted(e.name)) }
        }
    }
}

/// One entry as a JSON object (docs/JSON.md, "ls").
enum EntryJSON {
    static func encode(_ e: FileEntry, dir: [UInt8]) -> [UInt8] { object(e, dir: dir).encoded }

    /// Without `state`, the fields a content-level decode leaves empty (ctime, inode, nlink,
    /// directory totals) are left out.
    static func object(_ e: FileEntry, dir: [UInt8], state: Bool = true) -> JSONObject {
        let path = PathBytes.display(PathBytes.join(dir, e.name))
        var o = JSONObject()
        o.string("path", bytes: path)
        if !isUTF8(path) { o.string("path_b64", Data(path).base64EncodedString()) }
        o.string("type", e.type.word)
        o.number("size", e.size)
        o.string("mode", Format.octalMode(e.permissions))
        o.number("uid", e.uid)
        o.number("gid", e.gid)
        o.string("mtime", Timestamp(nanoseconds: e.mtime).rfc3339(fraction: true))
        if state { o.string("ctime", Timestamp(nanoseconds: e.ctime).rfc3339(fraction: true)) }
        if e.type == .symlink {
            o.string("target", bytes: e.target)
            if !isUTF8(e.target) { o.string("target_b64", Data(e.target).base64EncodedString()) }
        }
        if e.type == .charDevice || e.type == .blockDevice { o.number("device", e.device) }
        o.string("hash", e.hash?.hex)
        guard state else { return o }
        o.number("nlink", e.nlink)
        o.number("inode", e.inode)
        if e.type == .directory {
            o.number("children", e.children)
            o.number("tree_files", e.treeFiles)
            o.number("tree_bytes", e.treeBytes)
        }
        return o
    }

    static func isUTF8(_ b: [UInt8]) -> Bool { String(validating: b, as: UTF8.self) != nil }
}

enum LongFormat {
    static func line(_ e: FileEntry) -> [UInt8] {
        let size = e.type == .charDevice || e.type == .blockDevice ? "\(e.device >> 8 & 0xfff), \(e.device & 0xff)" : "\(e.size)"
        let time = String(Timestamp(nanoseconds: e.mtime).localDisplay().prefix(16))
        var s = Array("\(Format.permissions(e)) \(Format.pad("\(e.nlink)", 3, right: true)) \(Format.pad("\(e.uid)", 5)) \(Format.pad("\(e.gid)", 5)) \(Format.pad(size, 10, right: true)) \(time) ".utf8)
        s += Format.quoted(e.name.isEmpty ? [UInt8(ascii: "/")] : e.name)
        if e.type == .symlink { s += Array(" -> ".utf8) + Format.quoted(e.target) }
        return s
    }
}
