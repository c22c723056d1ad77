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

            In a partial point (see `snapdex points`), an entry that could not be read when it \
            was indexed says so (a directory's Tree line, a link's Target, a file's SHA256), \
            and a path under a directory that could not be read is an error that says why.

            EXIT STATUS: 0 shown; 1 unknown point or path, or a path that could not be read when indexed.
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
        let reader = try repo.reader(for: p)
        guard let e = try reader.entry(at: rel) else { throw reader.missingPathError(pointName: point, path: rel) }
        let notRead = Dictionary(reader.unreadable(at: rel).filter { $0.path == rel }.map { ($0.what, $0) }, uniquingKeysWith: { a, _ in a })
        let out = Output.current
        if json {
            var o = EntryJSON.object(e, dir: PathBytes.split(rel).dir)
            if let u = notRead.values.first {
                o.string("unreadable", u.what.word)
                o.string("unreadable_error", "\(u.errno)")
            }
            if let c = reader.manifest.copiedFrom {
                o.string("copied_from", c.repositoryHex)
                o.string("copied_at", c.copiedAt.rfc3339())
                o.string("policy", InfoCommand.policyText(reader.manifest.policy, zone: reader.manifest.calendarZone))
                o.string("origin_policy", reader.manifest.originPolicy.map { InfoCommand.policyText($0.settings, zone: $0.zone) })
            }
            StoreUsage.attach(to: &o)
            out.line(bytes: o.encoded)
            return
        }
        func notReadText(_ what: UnreadablePath.What) -> String? { notRead[what].map { "not read when indexed (\($0.errno))" } }
        out.line(bytes: Array("  Path: ".utf8) + Format.quoted(PathBytes.display(rel)))
        if e.type == .symlink {
            out.line(bytes: Array("Target: ".utf8) + (notReadText(.linkTarget).map { Array($0.utf8) } ?? Format.quoted(e.target)))
        }
        out.line("  Type: \(e.type.word)")
        out.line("  Size: \(e.size)")
        out.line("  Mode: \(Format.octalMode(e.permissions)) (\(Format.permissions(e)))")
        out.line("   Uid: \(e.uid)   Gid: \(e.gid)")
        out.line(" Inode: \(e.inode)   Links: \(e.nlink)")
        if e.type == .charDevice || e.type == .blockDevice { out.line("Device: \(e.device >> 8 & 0xfff),\(e.device & 0xff)") }
        out.line("Modify: \(TimeDisplay.text(e.mtime, fraction: true))")
        out.line("Change: \(TimeDisplay.text(e.ctime, fraction: true))")
        out.line("SHA256: \(e.hash?.hex ?? notReadText(.content) ?? "-")")
        if e.type == .directory {
            if let why = notReadText(.directory) {
                out.line("  Tree: \(why): its children are not in this point")
            } else {
                out.line("  Tree: \(e.children) children, \(e.treeFiles) files, \(e.treeBytes) bytes")
            }
        }
        let below = reader.manifest.unreadable.listed.filter { $0.path != rel && PathBytes.isWithin($0.path, rel) }.count
        if below > 0 { out.advice("Missing: \(below) path(s) under it could not be read when the point was indexed (`snapdex ls -R` names them)") }
        out.line(" Point: \(p.id) (\(p.source), \(TimeDisplay.exactText(p.pointTime)))\(p.unreadable > 0 ? ", partial" : "")")
        let m = reader.manifest
        if let c = m.copiedFrom {
            // A copy's policy is its target's; the one it was indexed under is kept beside it.
            out.line("Copied: from repository \(c.repositoryHex) at \(TimeDisplay.text(c.copiedAt))")
            let origin = m.originPolicy.map { InfoCommand.policyText($0.settings, zone: $0.zone) } ?? "unknown"
            out.line("Policy: \(InfoCommand.policyText(m.policy, zone: m.calendarZone)) (origin's: \(origin))")
        }
    }

    /// A stored policy as `policy set` takes it, or `none`.
    static func policyText(_ settings: [Manifest.PolicySetting], zone: String?) -> String {
        let text = RetentionPolicy(settings: settings.map { ($0.name, $0.value) }, zone: zone).text
        return text.isEmpty ? "none" : text
    }
}
