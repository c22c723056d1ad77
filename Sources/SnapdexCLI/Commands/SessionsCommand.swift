import ArgumentParser
import Foundation
import SnapdexCore

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List sessions: each run of index, expire, restore or forget.",
        discussion: """
            One row per session, oldest first: when it started, its kind and result, its source, \
            its point (or how many), and a summary of its counts; a restore also shows where it \
            went and what it restored. Rows are cut at \(SessionsCommand.detailsWidth) characters \
            of summary; --json has every field (docs/JSON.md).

            Examples:
              snapdex sessions --last 10
              snapdex sessions --kind restore --since 2026-11-01
              snapdex sessions --source home --failed
              snapdex sessions --json

            EXIT STATUS: 0 listed; 1 no repository; 2 bad option; 3 some lines of the log are damaged \
            (the others are listed).
            """)

    static let detailsWidth = 100
    static let kinds = ["index", "restore", "expire", "forget"]

    @OptionGroup var repository: RepositoryOptions
    @Option(help: ArgumentHelp("Only sessions of this kind: index, restore, expire or forget.", valueName: "kind"))
    var kind: String?
    @Option(help: ArgumentHelp("Only sessions started at or after this time (a date alone: its midnight).", valueName: "time"))
    var since: String?
    @Option(help: "Only sessions of this source.", completion: .sourceName)
    var source: String?
    @Flag(help: "Only sessions whose result is not ok (failed or partial).")
    var failed = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Only the newest N sessions (after the other filters).", valueName: "N"))
    var last: Int?
    @Flag(help: "Print JSON Lines, one object per session.")
    var json = false

    func validate() throws {
        if let kind, !SessionsCommand.kinds.contains(kind) {
            throw ValidationError("--kind takes index, restore, expire or forget, not '\(kind)'")
        }
        if let last, last < 1 { throw ValidationError("--last takes a number of sessions, 1 or more, not \(last)") }
    }

    func run() throws {
        let repo = try repository.open()
        let out = Output.current
        let since = try parseTime(since)
        let log = try repo.sessionLog()
        var sessions = log.sessions.filter { s in
            if let kind, s.kind != kind { return false }
            if let source, s.source != source { return false }
            if failed && s.result == "ok" { return false }
            if let since {
                guard let t = try? TimeParser.read(s.started), t >= since else { return false }
            }
            return true
        }
        if let last { sessions = Array(sessions.suffix(last)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for s in sessions { out.line(bytes: Array(try encoder.encode(s))) }
        } else if sessions.isEmpty {
            // With damaged lines, "no sessions" might be false; the error below says what is known.
            if log.unreadable == 0 { out.line("no sessions" + (log.sessions.isEmpty ? "" : " match")) }
        } else {
            let short = try repo.shortIDs()
            let width = Format.idWidth(sessions.flatMap(\.points), short: short)
            var rows = [["STARTED", "KIND", "RESULT", "SOURCE", "POINTS", "SUMMARY"]]
            for s in sessions {
                let started = (try? TimeParser.read(s.started)).map { TimeDisplay.text($0) } ?? s.started
                let points = s.points.count == 1 ? String(s.points[0].prefix(width))
                    : s.points.isEmpty ? "-" : "\(s.points.count) points"
                rows.append([started, s.kind, s.result, s.source ?? "-", points, SessionsCommand.summary(s)])
            }
            Format.table(rows).forEach(out.line)
        }
        // Damage, like any other: the lines that read are listed, and the status says the
        // list is not whole.
        if log.unreadable > 0 {
            Output.current.error("snapdex: \(log.unreadable) line(s) of \(repo.root)/sessions.jsonl could not be read (damaged or cut short) and are not listed")
            throw CommandExit(ExitStatus.damaged)
        }
    }

    /// A restore's target, the counts that are not zero, a restore's paths, the message; one line
    /// of at most `detailsWidth` characters.
    static func summary(_ s: SessionRecord) -> String {
        var parts: [String] = []
        if let target = s.target { parts.append("to \(target)") }
        let counts = s.counts.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if !counts.isEmpty { parts.append(counts.joined(separator: " ")) }
        if let paths = s.paths, !paths.isEmpty { parts.append(paths.joined(separator: " ")) }
        if let m = s.message { parts.append("(\(m))") }
        let text = parts.joined(separator: "; ").map { $0.isNewline ? " " : $0 }
        return text.count <= detailsWidth ? String(text) : String(text.prefix(detailsWidth - 1)) + "…"
    }
}
