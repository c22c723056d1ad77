import ArgumentParser
import SnapdexCore

struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Add, change, list and remove sources (the file systems whose snapshots are indexed).",
        discussion: """
            Examples:
              snapdex source add home --snapshots /tank/home/.zfs/snapshot --live-path /tank/home
              snapdex source set home --live-path /mnt/home
              snapdex source list
              snapdex source remove web --purge

            EXIT STATUS: as the subcommand's.
            """,
        subcommands: [Add.self, SetCommand.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a source.",
            discussion: """
                A source is a protected file system: a folder whose subdirectories are its \
                snapshots, and optionally the live path that in-place restores write to.

                --include and --exclude choose which snapshots `snapdex index --source` takes, \
                by glob on the snapshot's name (the folder name under the snapshots folder): with \
                any --include, only names matching one of them; never names matching an --exclude.

                Examples:
                  snapdex source add home --snapshots /tank/home/.zfs/snapshot --live-path /tank/home
                  snapdex source add tank --snapshots /tank/.zfs/snapshot --include 'zfs-auto-snap_daily-*'
                  snapdex source add backup --snapshots /srv/rsnapshot --time-from mtime

                EXIT STATUS: 0 added; 1 it exists or the folder is missing; 2 bad name or option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source's name: letters, digits, '.', '_' and '-'.")
        var name: String
        @Option(help: ArgumentHelp("The folder whose subdirectories are this source's snapshots.", valueName: "dir"), completion: .directory)
        var snapshots: String?
        @Option(help: ArgumentHelp("Where the live file system is mounted (for restore --in-place).", valueName: "dir"), completion: .directory)
        var livePath: String?
        @Option(help: ArgumentHelp(TimeSourceHelp.text, valueName: "auto|name|mtime"))
        var timeFrom: String = "auto"
        @Option(name: .customLong("include"), help: ArgumentHelp("Index only snapshots whose name matches this glob (or another --include). Repeatable.", valueName: "glob"))
        var includes: [String] = []
        @Option(name: .customLong("exclude"), help: ArgumentHelp("Never index snapshots whose name matches this glob. Repeatable.", valueName: "glob"))
        var excludes: [String] = []

        func validate() throws {
            try refuseEmptyPaths(["--snapshots": snapshots, "--live-path": livePath])
            try TimeSourceHelp.validate(timeFrom)
            try TimeSourceHelp.validate(globs: includes + excludes)
        }

        func run() throws {
            let tf = TimeSource(rawValue: timeFrom) ?? .auto
            let repo = try repository.open()
            try repo.addSource(SourceConfig(name: name, snapshots: snapshots, livePath: livePath, timeFrom: tf,
                                            include: includes, exclude: excludes), wait: wait.wait)
            if !Log.quiet { Output.current.line("added source \(name)") }
        }
    }

    struct SetCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a source's snapshots folder, live path, time source or snapshot filters.",
            discussion: """
                Changes only the properties given; the others and the source's points stay as \
                they are. --include (or --exclude) replaces the source's include (or exclude) \
                globs; --clear-filters removes both first. A source whose source.json is \
                damaged or missing is refused (exit 3) and nothing is changed: `snapdex verify \
                --repair` writes it anew first.

                Examples:
                  snapdex source set home --live-path /tank/home
                  snapdex source set backup --snapshots /srv/rsnapshot --time-from mtime
                  snapdex source set tank --exclude 'zfs-auto-snap_frequent-*' --exclude 'zfs-auto-snap_hourly-*'
                  snapdex source set tank --clear-filters

                EXIT STATUS: 0 changed; 1 no such source, or a folder is missing; 2 bad option; \
                3 damage in the repository.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source's name.", completion: .sourceName)
        var name: String
        @Option(help: ArgumentHelp("The folder whose subdirectories are this source's snapshots.", valueName: "dir"), completion: .directory)
        var snapshots: String?
        @Option(help: ArgumentHelp("Where the live file system is mounted (for restore --in-place).", valueName: "dir"), completion: .directory)
        var livePath: String?
        @Option(help: ArgumentHelp(TimeSourceHelp.text, valueName: "auto|name|mtime"))
        var timeFrom: String?
        @Option(name: .customLong("include"), help: ArgumentHelp("Index only snapshots whose name matches this glob (or another --include); replaces the include globs. Repeatable.", valueName: "glob"))
        var includes: [String] = []
        @Option(name: .customLong("exclude"), help: ArgumentHelp("Never index snapshots whose name matches this glob; replaces the exclude globs. Repeatable.", valueName: "glob"))
        var excludes: [String] = []
        @Flag(help: "Remove the source's include and exclude globs (before any given here).")
        var clearFilters = false

        func validate() throws {
            try refuseEmptyPaths(["--snapshots": snapshots, "--live-path": livePath])
            if snapshots == nil && livePath == nil && timeFrom == nil && includes.isEmpty && excludes.isEmpty && !clearFilters {
                throw ValidationError("give at least one of --snapshots, --live-path, --time-from, --include, --exclude, --clear-filters")
            }
            if let timeFrom { try TimeSourceHelp.validate(timeFrom) }
            try TimeSourceHelp.validate(globs: includes + excludes)
        }

        func run() throws {
            let repo = try repository.open()
            var filters = SnapshotFilterChange(clear: clearFilters)
            if !includes.isEmpty { filters.include = includes }
            if !excludes.isEmpty { filters.exclude = excludes }
            try repo.setSource(name, snapshots: snapshots, livePath: livePath, timeFrom: timeFrom.flatMap(TimeSource.init(rawValue:)),
                               filters: filters, wait: wait.wait)
            if !Log.quiet { Output.current.line("changed source \(name)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List sources.",
            discussion: """
                Examples:
                  snapdex source list
                  snapdex source list --json

                EXIT STATUS: 0 listed; 1 no repository; 3 a source's source.json is damaged or missing \
                (the others are listed).
                """)

        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Print JSON Lines, one object per source.")
        var json = false

        func run() throws {
            let repo = try repository.open()
            let points = try repo.points()
            let out = Output.current
            var rows = [["NAME", "POINTS", "TIME FROM", "SNAPSHOTS", "LIVE PATH", "POLICY", "FILTERS"]]
            var damage: SnapdexError?
            for s in try repo.sources() {
                // A source whose source.json is damaged is left out (its settings are unknown)
                // and makes the exit status 3; the others are listed.
                if let problem = repo.sourceConfigProblem(s.name) {
                    damage = damage ?? problem
                    continue
                }
                let n = points.filter { $0.source == s.name }.count
                let config = repo.sourceConfiguration(s.name)
                if json {
                    var o = JSONObject()
                    o.string("name", s.name)
                    o.string("snapshots", s.snapshots)
                    o.string("live_path", s.livePath)
                    o.string("time_from", config?.timeFrom.rawValue ?? s.timeFrom)
                    o.string("policy", s.policy)
                    o.number("points", n)
                    o.strings("include", config?.include ?? [])
                    o.strings("exclude", config?.exclude ?? [])
                    out.line(bytes: o.encoded)
                } else {
                    let filters = (config?.include.map { "--include " + $0 } ?? []) + (config?.exclude.map { "--exclude " + $0 } ?? [])
                    rows.append([s.name, "\(n)", config?.timeFrom.rawValue ?? s.timeFrom, s.snapshots ?? "-", s.livePath ?? "-", s.policy ?? "-",
                                 filters.isEmpty ? "-" : filters.joined(separator: " ")])
                }
            }
            if !json { Format.table(rows, rightAligned: [1]).forEach(out.line) }
            if let damage { throw damage }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source.",
            discussion: """
                Refuses while the source has indexes, unless --purge, which removes them and \
                every block no other index uses. A held point (`snapdex point keep`) is never \
                purged: the command is refused, naming the hold and how to release it, unless \
                --force.

                Examples:
                  snapdex source remove web
                  snapdex source remove web --purge

                EXIT STATUS: 0 removed; 1 unknown source, or it has indexes and no --purge, or \
                a held point and no --force.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source to remove.", completion: .sourceName)
        var name: String
        @Flag(help: "Also remove the source's indexes.")
        var purge = false
        @Flag(help: "With --purge, remove held points too (see point keep).")
        var force = false

        func run() throws {
            let repo = try repository.open()
            let n = try repo.removeSource(name, purge: purge, force: force, wait: wait.wait)
            if !Log.quiet { Output.current.line("removed source \(name)" + (n > 0 ? " and its \(Format.count(n, "index", "indexes"))" : "")) }
        }
    }
}

/// The --time-from option's help and checks, shared by source add, source set and index.
enum TimeSourceHelp {
    static let text = "Where point times come from: 'auto' (the snapshot's name, else its mtime with a warning), 'name' (the name only; a name without a time is an error) or 'mtime'."

    static func validate(_ value: String) throws {
        if TimeSource(rawValue: value) == nil {
            throw ValidationError("--time-from takes \(TimeSource.choices), not '\(value)'")
        }
    }

    static func validate(globs: [String]) throws {
        if globs.contains(where: \.isEmpty) { throw ValidationError("--include and --exclude take a glob, not an empty string") }
    }
}
