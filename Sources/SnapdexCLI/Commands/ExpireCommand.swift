import ArgumentParser
import SnapdexCore

struct ExpireCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expire",
        abstract: "Expire indexes that no retention rule keeps.",
        discussion: """
            Judges every point by the timestamps and policy stored in its own manifest, at NOW \
            (the clock, or --now). Expired indexes lose their manifest, their database rows and \
            every block no remaining index references. Running it twice changes nothing the \
            second time. Rules: snapdex-retention(7).

            Examples:
              snapdex expire --dry-run
              snapdex expire --source home --json
              snapdex expire --now 2027-06-01 --dry-run

            EXIT STATUS: 0 done; 1 failure (what was removed stays removed; nothing is half-removed); \
            3 a manifest cannot be read, so nothing is removed (--dry-run exits 3 too).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Option(help: "Only this source's points.", completion: .sourceName)
    var source: String?
    @Option(help: ArgumentHelp("Decide as if it were this time (ISO 8601; a date alone means the end of that day).", valueName: "time"))
    var now: String?
    @Flag(help: "Print the plan and change nothing.")
    var dryRun = false
    @Flag(help: "Print JSON Lines: one object per point, then a summary object.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let at = try parseTime(now, endOfDay: true) ?? .now
        // Before expiring: the ids of the points it removes are shown as wide as the others.
        let short = try repo.shortIDs()
        let report = try repo.expire(source: source, now: at, dryRun: dryRun, wait: wait.wait)
        let out = Output.current
        let width = Format.idWidth(report.decisions.map(\.candidate.id), short: short)
        var rows = [["ACTION", "ID", "SOURCE", "TIME", "KIND", "REASONS"]]
        for d in report.decisions {
            let c = d.candidate
            if json {
                var o = JSONObject()
                o.string("id", c.id)
                o.string("source", c.source)
                o.string("time", c.time.exactRFC3339())
                o.string("kind", c.manual ? "manual" : "scheduled")
                o.string("action", d.keep ? "keep" : "expire")
                o.strings("reasons", d.reasons)
                out.line(bytes: o.encoded)
            } else {
                rows.append([d.keep ? "keep" : (report.dryRun ? "would expire" : "expired"), String(c.id.prefix(width)),
                             c.source, TimeDisplay.exactText(c.time), c.manual ? "manual" : "scheduled", d.reasons.joined(separator: ", ")])
            }
        }
        if json {
            var o = JSONObject()
            o.bool("dry_run", report.dryRun)
            o.string("now", at.rfc3339())
            o.number("kept", report.kept)
            o.number("expired", report.expired.count)
            o.number("freed_blocks", report.freedBlocks)
            StoreUsage.attach(to: &o)
            out.line(bytes: o.encoded)
        } else if report.dryRun || !Log.quiet {
            Format.table(rows).forEach(out.line)
            let verb = report.dryRun ? "would expire" : "expired"
            out.line("\(report.kept) kept, \(report.expired.count) \(verb)" + (report.dryRun ? " (dry run: nothing changed)" : ", \(report.freedBlocks) blocks freed"))
        }
    }
}
