import ArgumentParser
import SnapdexCore

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Set and show a source's retention policy.",
        discussion: """
            The rules are in snapdex-retention(7).

            Examples:
              snapdex policy set home --keep-days 14 --daily 7 --weekly 8 --monthly 12 --yearly 3
              snapdex policy show home

            EXIT STATUS: as the subcommand's.
            """,
        subcommands: [Set.self, Show.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a source's retention policy.",
            discussion: """
                The policy is what this command states: settings not given are unset. It applies \
                to indexes made from now on, each of which records it in its manifest; with \
                --apply-to-existing it is also written into every existing manifest of the source.
                A source with no policy keeps everything. Manual points are never expired by policy.

                Hours, days, weeks, months and years are those of the calendar in --zone (an IANA \
                name such as Europe/Berlin, or an offset such as +01:00; default: this machine's \
                local zone now). The zone is stored with the policy, so every machine judges a \
                point the same way whatever its TZ.

                Examples:
                  snapdex policy set home --keep-days 14 --weekly 8 --monthly 12 --yearly 3
                  snapdex policy set home --hourly 24 --daily 14 --weekly 8 --zone Europe/Berlin
                  snapdex policy set home --keep-last 30 --apply-to-existing
                  snapdex policy set home --clear

                EXIT STATUS: 0 set; 1 unknown source; 2 bad option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source.", completion: .sourceName)
        var source: String
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep points within this many days of the source's newest point (at most 100000).", valueName: "n"))
        var keepDays: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest N points.", valueName: "n"))
        var keepLast: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest point of each of the newest N hours.", valueName: "n"))
        var hourly: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest point of each of the newest N days.", valueName: "n"))
        var daily: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest point of each of the newest N ISO weeks.", valueName: "n"))
        var weekly: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest point of each of the newest N calendar months.", valueName: "n"))
        var monthly: Int?
        @Option(parsing: .unconditional, help: ArgumentHelp("Keep the newest point of each of the newest N calendar years.", valueName: "n"))
        var yearly: Int?
        @Option(help: ArgumentHelp("The zone whose calendar counts hours, days, weeks, months and years (default: the local zone).", valueName: "zone"))
        var zone: String?
        @Flag(help: "Remove the policy: keep everything.")
        var clear = false
        @Flag(help: "Also write the policy into the source's existing indexes.")
        var applyToExisting = false

        var settings: RetentionPolicy {
            RetentionPolicy(keepDays: keepDays, keepLast: keepLast, hourly: hourly, daily: daily, weekly: weekly,
                            monthly: monthly, yearly: yearly)
        }

        func validate() throws {
            let policy = settings
            do { try policy.validate() } catch { throw ValidationError("\(error)") }
            if clear && (!policy.isEmpty || zone != nil) { throw ValidationError("--clear takes no other settings") }
            if !clear && policy.isEmpty { throw ValidationError("name at least one setting, or --clear to keep everything") }
        }

        func run() throws {
            var policy = settings
            if !policy.isEmpty { policy.zone = try zone.map { try CalendarZone($0) } ?? .local }
            let repo = try repository.open()
            let n = try repo.setPolicy(source: source, policy: policy, applyToExisting: applyToExisting, wait: wait.wait)
            let out = Output.current
            out.result(policy.isEmpty ? "\(source): no policy (keep everything)" : "\(source): \(policy.text)")
            if applyToExisting { out.result("written into \(n) existing index(es)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a source's retention policy and the policies stored in its indexes.",
            discussion: """
                Each index is judged by the policy stored in it: a new policy applies to new \
                indexes only, and this command prints the command that stores it in every index. \
                A policy names the zone whose calendar counts its hours, days, weeks, months and \
                years (zone=...).

                Examples:
                  snapdex policy show home

                EXIT STATUS: 0 shown; 1 unknown source; 3 its source.json is damaged or missing.
                """)

        @OptionGroup var repository: RepositoryOptions
        @Argument(help: "The source.", completion: .sourceName)
        var source: String

        func run() throws {
            let repo = try repository.open()
            let s = try repo.source(named: source)
            // A damaged source.json has no policy to show: saying "no policy" would be wrong.
            if let problem = repo.sourceConfigProblem(source) { throw problem }
            let out = Output.current
            out.line("\(source): \(s.policy ?? "no policy (keep everything)")")
            if let z = (try? RetentionPolicy(text: s.policy ?? ""))?.zone, !z.isKnown {
                out.line("  zone \(z.name) is unknown to this machine: its periods are counted in UTC")
            }
            let stored = Dictionary(grouping: try repo.points(source: source), by: { $0.policy ?? "no policy" })
            var zoneless = false
            for (policy, points) in stored.sorted(by: { $0.key < $1.key }) {
                out.line("  \(points.count) index(es) store: \(policy)")
                if let p = try? RetentionPolicy(text: policy), !p.isEmpty {
                    if p.zone == nil { zoneless = true }
                    if let z = p.zone, !z.isKnown { out.line("  zone \(z.name) is unknown to this machine: its periods are counted in UTC") }
                }
            }
            if zoneless {
                out.line("  a policy stored without a zone counts periods in this machine's zone, \(CalendarZone.local.name)")
            }
            // Indexes judged by another policy than the source's, or without a zone this machine
            // knows: say how to store the source's policy, with such a zone, in every index.
            if let current = try? RetentionPolicy(text: s.policy ?? ""), !current.isEmpty,
               zoneless || current.zone?.isKnown != true || stored.keys.contains(where: { $0 != s.policy }) {
                let options = current.settings.map { "--\($0.name) \($0.value)" }.joined(separator: " ")
                // A zone this machine does not know cannot be set here: the command names the local one.
                let zone = (current.zone.flatMap { $0.isKnown ? $0 : nil } ?? .local).name
                out.line("  to store the source's policy in every index: \(out.snapdexCommand) policy set \(source) \(options) --zone \(zone) --apply-to-existing")
            }
        }
    }
}
