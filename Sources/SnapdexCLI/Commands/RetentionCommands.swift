import ArgumentParser
import SnapdexCore

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Set and show a source's retention policy.",
        discussion: "The rules are in snapdex-retention(7).",
        subcommands: [Set.self, Show.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a source's retention policy.",
            discussion: """
                The policy is what this command states: settings not given are unset. It applies \
                to indexes made from now on, each of which records it in its manifest; with \
                --apply-to-existing it is also written into every existing manifest of the source.
                A source with no policy keeps everything. Manual points are never expired by policy.

                Examples:
                  snapdex policy set home --keep-days 14 --weekly 8 --monthly 12 --yearly 3
                  snapdex policy set home --keep-last 30 --apply-to-existing
                  snapdex policy set home --clear

                EXIT STATUS: 0 set; 1 unknown source; 2 bad option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source.")
        var source: String
        @Option(help: ArgumentHelp("Keep points within this many days of now.", valueName: "n"))
        var keepDays: Int?
        @Option(help: ArgumentHelp("Keep the newest N points.", valueName: "n"))
        var keepLast: Int?
        @Option(help: ArgumentHelp("Keep the newest point of each of the newest N ISO weeks.", valueName: "n"))
        var weekly: Int?
        @Option(help: ArgumentHelp("Keep the newest point of each of the newest N calendar months.", valueName: "n"))
        var monthly: Int?
        @Option(help: ArgumentHelp("Keep the newest point of each of the newest N calendar years.", valueName: "n"))
        var yearly: Int?
        @Flag(help: "Remove the policy: keep everything.")
        var clear = false
        @Flag(help: "Also write the policy into the source's existing indexes.")
        var applyToExisting = false

        var policy: RetentionPolicy {
            RetentionPolicy(keepDays: keepDays, keepLast: keepLast, weekly: weekly, monthly: monthly, yearly: yearly)
        }

        func validate() throws {
            if [keepDays, keepLast, weekly, monthly, yearly].contains(where: { ($0 ?? 0) < 0 }) {
                throw ValidationError("retention settings are counts: use 0 or more")
            }
            if clear && !policy.isEmpty { throw ValidationError("--clear takes no other settings") }
            if !clear && policy.isEmpty { throw ValidationError("name at least one setting, or --clear to keep everything") }
        }

        func run() throws {
            let repo = try repository.open()
            let n = try repo.setPolicy(source: source, policy: policy, applyToExisting: applyToExisting, wait: wait.wait)
            let out = Output.current
            out.line(policy.isEmpty ? "\(source): no policy (keep everything)" : "\(source): \(policy.text)")
            if applyToExisting { out.line("written into \(n) existing index(es)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a source's retention policy and the policies stored in its indexes.",
            discussion: """
                Examples:
                  snapdex policy show home

                EXIT STATUS: 0 shown; 1 unknown source.
                """)

        @OptionGroup var repository: RepositoryOptions
        @Argument(help: "The source.")
        var source: String

        func run() throws {
            let repo = try repository.open()
            let s = try repo.source(named: source)
            let out = Output.current
            out.line("\(source): \(s.policy ?? "no policy (keep everything)")")
            let stored = Dictionary(grouping: try repo.points(source: source), by: { $0.policy ?? "no policy" })
            for (policy, points) in stored.sorted(by: { $0.key < $1.key }) {
                out.line("  \(points.count) index(es) store: \(policy)")
            }
        }
    }
}

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

            EXIT STATUS: 0 done; 1 failure (what was removed stays removed; nothing is half-removed).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Option(help: "Only this source's points.")
    var source: String?
    @Option(help: ArgumentHelp("Decide as if it were this time (ISO 8601; a date alone is its midnight).", valueName: "time"))
    var now: String?
    @Flag(help: "Print the plan and change nothing.")
    var dryRun = false
    @Flag(help: "Print JSON Lines: one object per point, then a summary object.")
    var json = false

    func run() throws {
        let repo = try repository.open()
        let at = try parseTime(now) ?? .now
        let report = try repo.expire(source: source, now: at, dryRun: dryRun, wait: wait.wait)
        let out = Output.current
        let short = try repo.shortIDs()
        var rows = [["ACTION", "ID", "SOURCE", "TIME", "KIND", "REASONS"]]
        for d in report.decisions {
            let c = d.candidate
            if json {
                var o = JSONObject()
                o.string("id", c.id)
                o.string("source", c.source)
                o.string("time", c.time.rfc3339())
                o.string("kind", c.manual ? "manual" : "scheduled")
                o.string("action", d.keep ? "keep" : "expire")
                o.strings("reasons", d.reasons)
                out.line(bytes: o.encoded)
            } else {
                rows.append([d.keep ? "keep" : (report.dryRun ? "would expire" : "expired"), short[c.id] ?? String(c.id.prefix(12)),
                             c.source, c.time.localDisplay(), c.manual ? "manual" : "scheduled", d.reasons.joined(separator: ", ")])
            }
        }
        if json {
            var o = JSONObject()
            o.bool("dry_run", report.dryRun)
            o.string("now", at.rfc3339())
            o.number("kept", report.kept)
            o.number("expired", report.expired.count)
            o.number("freed_blocks", report.freedBlocks)
            out.line(bytes: o.encoded)
        } else {
            Format.table(rows).forEach(out.line)
            let verb = report.dryRun ? "would expire" : "expired"
            out.line("\(report.kept) kept, \(report.expired.count) \(verb)" + (report.dryRun ? " (dry run: nothing changed)" : ", \(report.freedBlocks) blocks freed"))
        }
    }
}

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove indexes by hand, whatever the policy.",
        discussion: """
            Removes each named point's manifest and database rows, then every block no \
            remaining index references. Other indexes are never affected: each is a full catalog.

            Examples:
              snapdex forget home@2026-11-02
              snapdex forget 3fa9c1d2 7be01c44

            EXIT STATUS: 0 removed; 1 unknown point.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Argument(help: "The points to remove.")
    var points: [String]

    func validate() throws {
        if points.isEmpty { throw ValidationError("name at least one point") }
    }

    func run() throws {
        let repo = try repository.open()
        let records = try points.map { try repo.resolve($0) }
        let freed = try repo.forget(records, wait: wait.wait)
        Output.current.line("forgot \(records.count) index(es), \(freed) blocks freed")
    }
}

struct PointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "point",
        abstract: "Change what is stored with one restore point.",
        subcommands: [Keep.self])

    struct Keep: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold a point until a time, whatever the policy (a legal hold).",
            discussion: """
                Writes retain-until into the point's manifest; expire keeps the point until then.

                Examples:
                  snapdex point keep home@2026-06-30 --until 2030-01-01
                  snapdex point keep 3fa9c1d2 --release

                EXIT STATUS: 0 done; 1 unknown point; 2 bad option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The point.")
        var point: String
        @Option(help: ArgumentHelp("Keep it until this time (ISO 8601; a date alone is the end of that day).", valueName: "time"))
        var until: String?
        @Flag(help: "Remove the hold.")
        var release = false

        func validate() throws {
            if (until == nil) == !release { throw ValidationError("give either --until TIME or --release") }
        }

        func run() throws {
            let repo = try repository.open()
            let p = try repo.resolve(point)
            let t = try parseTime(until, endOfDay: true)
            try repo.keep(p, until: t, wait: wait.wait)
            Output.current.line(t.map { "point \(p.id.prefix(12)) is kept until \($0.rfc3339())" } ?? "point \(p.id.prefix(12)) has no hold")
        }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete blocks that no index references.",
        discussion: """
            expire and forget delete freed blocks themselves; gc collects what an interrupted \
            run left behind.

            Examples:
              snapdex gc

            EXIT STATUS: 0 done; 1 failure.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions

    func run() throws {
        let repo = try repository.open()
        let n = try repo.withWriterLock(wait: wait.wait) { try repo.collectGarbage() }
        Output.current.line("removed \(n) unreferenced block(s)")
    }
}
