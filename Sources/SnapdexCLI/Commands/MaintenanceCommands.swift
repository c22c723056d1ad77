import ArgumentParser
import Foundation
import SnapdexCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every catalog block decodes and matches its hash.",
        discussion: """
            Reads, decompresses, re-hashes and decodes every block of the named points (all \
            points when none is named), and names each damaged block and every point it affects.

            Examples:
              snapdex verify
              snapdex verify home@latest

            EXIT STATUS: 0 no damage; 3 damage found; 1 other failure.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "Points to verify (default: all).")
    var points: [String] = []

    func run() throws {
        let repo = try repository.open()
        let selected = try points.map { try repo.resolve($0) }
        let report = try repo.verify(points: selected)
        let out = Output.current
        for m in report.damagedManifests { out.line("damaged manifest of point \(m.point.prefix(12)): \(m.reason)") }
        for b in report.damagedBlocks {
            out.line("damaged block \(b.hash): \(b.reason); affects points: \(b.points.map { String($0.prefix(12)) }.joined(separator: ", "))")
        }
        let verdict = report.isClean ? "no damage found" : "\(report.damagedBlocks.count) damaged block(s), \(report.damagedManifests.count) damaged manifest(s)"
        out.line("verified \(report.pointsChecked) point(s), \(report.blocksChecked) block(s): \(verdict)")
        if !report.isClean {
            out.error("snapdex: damage found; re-index the affected points from their snapshots (snapdex index DIR --replace), then run `snapdex verify` again")
            throw CommandExit(ExitStatus.damaged)
        }
    }
}

struct RescanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescan",
        abstract: "Rebuild the database from the catalog files.",
        discussion: """
            The catalog files (source.json and manifests) are the truth; the database only \
            indexes them. rescan rebuilds it from them alone, so a deleted or damaged \
            snapdex.db loses nothing.

            Examples:
              rm /srv/snapdex/snapdex.db && snapdex rescan --repo /srv/snapdex

            EXIT STATUS: 0 rebuilt; 3 some manifests were damaged and skipped; 1 failure.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions

    func run() throws {
        let repo = try repository.open()
        let r = try repo.rescan(wait: wait.wait)
        let out = Output.current
        for s in r.skipped { out.error("snapdex: skipped: \(s)") }
        out.line("rebuilt the database: \(r.sources) source(s), \(r.points) point(s), \(r.blocks) block(s)")
        if !r.skipped.isEmpty { throw CommandExit(ExitStatus.damaged) }
    }
}

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List sessions: each run of index, expire, restore or forget.",
        discussion: """
            Examples:
              snapdex sessions
              snapdex sessions --json

            EXIT STATUS: 0 listed; 1 no repository.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Flag(help: "Print JSON Lines, one object per session.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let out = Output.current
        var rows = [["STARTED", "KIND", "RESULT", "POINTS", "COUNTS"]]
        for s in try repo.sessions() {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                out.line(bytes: Array(try encoder.encode(s)))
            } else {
                let counts = s.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                rows.append([s.started, s.kind, s.result, s.points.map { String($0.prefix(12)) }.joined(separator: ","),
                             counts + (s.message.map { " (\($0))" } ?? "")])
            }
        }
        if !json { Format.table(rows).forEach(out.line) }
    }
}
