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

                Examples:
                  snapdex source add home --snapshots /tank/home/.zfs/snapshot --live-path /tank/home
                  snapdex source add backup --snapshots /srv/rsnapshot --time-from mtime

                EXIT STATUS: 0 added; 1 it exists or the folder is missing; 2 bad name or option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source's name: letters, digits, '.', '_' and '-'.")
        var name: String
        @Option(help: ArgumentHelp("The folder whose subdirectories are this source's snapshots.", valueName: "dir"))
        var snapshots: String?
        @Option(help: ArgumentHelp("Where the live file system is mounted (for restore --in-place).", valueName: "dir"))
        var livePath: String?
        @Option(help: ArgumentHelp("Where point times come from: 'name' (parsed from the directory name, else its mtime) or 'mtime'.", valueName: "name|mtime"))
        var timeFrom: String = "name"

        func validate() throws {
            try refuseEmptyPaths(["--snapshots": snapshots, "--live-path": livePath])
        }

        func run() throws {
            guard let tf = TimeSource(rawValue: timeFrom) else {
                throw SnapdexError.invalidArgument("--time-from takes 'name' or 'mtime', not '\(timeFrom)'")
            }
            let repo = try repository.open()
            try repo.addSource(SourceConfig(name: name, snapshots: snapshots, livePath: livePath, timeFrom: tf), wait: wait.wait)
            Output.current.line("added source \(name)")
        }
    }

    struct SetCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a source's snapshots folder, live path or time source.",
            discussion: """
                Changes only the properties given; the others and the source's points stay as \
                they are.

                Examples:
                  snapdex source set home --live-path /tank/home
                  snapdex source set backup --snapshots /srv/rsnapshot --time-from mtime

                EXIT STATUS: 0 changed; 1 no such source, or a folder is missing; 2 bad option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source's name.")
        var name: String
        @Option(help: ArgumentHelp("The folder whose subdirectories are this source's snapshots.", valueName: "dir"))
        var snapshots: String?
        @Option(help: ArgumentHelp("Where the live file system is mounted (for restore --in-place).", valueName: "dir"))
        var livePath: String?
        @Option(help: ArgumentHelp("Where point times come from: 'name' (parsed from the directory name, else its mtime) or 'mtime'.", valueName: "name|mtime"))
        var timeFrom: String?

        func validate() throws {
            try refuseEmptyPaths(["--snapshots": snapshots, "--live-path": livePath])
            if snapshots == nil && livePath == nil && timeFrom == nil {
                throw ValidationError("give at least one of --snapshots, --live-path, --time-from")
            }
            if let timeFrom, TimeSource(rawValue: timeFrom) == nil {
                throw ValidationError("--time-from takes 'name' or 'mtime', not '\(timeFrom)'")
            }
        }

        func run() throws {
            let repo = try repository.open()
            try repo.setSource(name, snapshots: snapshots, livePath: livePath, timeFrom: timeFrom.flatMap(TimeSource.init(rawValue:)), wait: wait.wait)
            Output.current.line("changed source \(name)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List sources.",
            discussion: """
                Examples:
                  snapdex source list
                  snapdex source list --json

                EXIT STATUS: 0 listed; 1 no repository.
                """)

        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Print JSON Lines, one object per source.")
        var json = false

        func run() throws {
            let repo = try repository.open()
            let points = try repo.points()
            let out = Output.current
            var rows = [["NAME", "POINTS", "TIME FROM", "SNAPSHOTS", "LIVE PATH", "POLICY"]]
            for s in try repo.sources() {
                let n = points.filter { $0.source == s.name }.count
                if json {
                    var o = JSONObject()
                    o.string("name", s.name)
                    o.string("snapshots", s.snapshots)
                    o.string("live_path", s.livePath)
                    o.string("time_from", s.timeFrom)
                    o.string("policy", s.policy)
                    o.number("points", n)
                    out.line(bytes: o.encoded)
                } else {
                    rows.append([s.name, "\(n)", s.timeFrom, s.snapshots ?? "-", s.livePath ?? "-", s.policy ?? "-"])
                }
            }
            if !json { Format.table(rows, rightAligned: [1]).forEach(out.line) }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source.",
            discussion: """
                Refuses while the source has indexes, unless --purge, which removes them and \
                every block no other index uses.

                Examples:
                  snapdex source remove web
                  snapdex source remove web --purge

                EXIT STATUS: 0 removed; 1 unknown source, or it has indexes and no --purge.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The source to remove.")
        var name: String
        @Flag(help: "Also remove the source's indexes.")
        var purge = false

        func run() throws {
            let repo = try repository.open()
            let n = try repo.removeSource(name, purge: purge, wait: wait.wait)
            Output.current.line("removed source \(name)" + (n > 0 ? " and its \(n) index(es)" : ""))
        }
    }
}
