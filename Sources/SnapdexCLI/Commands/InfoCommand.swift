import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

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
    @Argument(help: "The restore point.", completion: .pointReference)
    var point: String
    @Argument(help: "The path within the snapshot.", completion: .catalogPath)
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
        out.line("Modify: \(TimeDisplay.text(Timestamp(nanoseconds: e.mtime), fraction: true))")
        out.line("Change: \(TimeDisplay.text(Timestamp(nanoseconds: e.ctime), fraction: true))")
        out.line("SHA256: \(e.hash?.hex ?? "-")")
        if e.type == .directory { out.line("  Tree: \(e.children) children, \(e.treeFiles) files, \(e.treeBytes) bytes") }
        out.line(" Point: \(p.id) (\(p.source), \(TimeDisplay.text(p.pointTime)))")
    }
}
