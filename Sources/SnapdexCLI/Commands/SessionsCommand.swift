import ArgumentParser
import Foundation
import SnapdexCore

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List sessions: each run of index, expire, restore or forget.",
        discussion: """
            Examples:
              snapdex sessions
              snapdex sessions --json

            EXIT STATUS: 0 listed; 1 no repository; 3 some lines of the log are damaged (the others are listed).
            """)

    @OptionGroup var repository: RepositoryOptions
    @Flag(help: "Print JSON Lines, one object per session.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let out = Output.current
        var rows = [["STARTED", "KIND", "RESULT", "POINTS", "COUNTS"]]
        let log = try repo.sessionLog()
        for s in log.sessions {
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
        // Damage, like any other: the lines that read are listed, and the status says the
        // list is not whole.
        if log.unreadable > 0 {
            Output.current.error("snapdex: \(log.unreadable) line(s) of \(repo.root)/sessions.jsonl could not be read (damaged or cut short) and are not listed")
            throw CommandExit(ExitStatus.damaged)
        }
    }
}
