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
