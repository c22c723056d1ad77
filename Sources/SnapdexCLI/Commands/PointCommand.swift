import ArgumentParser
import SnapdexCore

struct PointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "point",
        abstract: "Change what is stored with one restore point.",
        discussion: """
            Examples:
              snapdex point keep home@2026-06-30 --until 2030-01-01

            EXIT STATUS: as the subcommand's.
            """,
        subcommands: [Keep.self])

    struct Keep: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold a point until a time, whatever the policy (a legal hold).",
            discussion: """
                Writes retain-until into the point's manifest; expire keeps the point until then. \
                `--until never` holds it until the hold is released. Times from \
                2262-04-11T23:47:16.854775807Z on cannot be stored and are refused: use `never` for those.

                Examples:
                  snapdex point keep home@2026-06-30 --until 2030-01-01
                  snapdex point keep home@2026-06-30 --until never
                  snapdex point keep 3fa9c1d2 --release

                EXIT STATUS: 0 done; 1 unknown point; 2 bad option.
                """)

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var wait: WaitOptions
        @Argument(help: "The point.", completion: .pointReference)
        var point: String
        @Option(help: ArgumentHelp("Keep it until this time (ISO 8601; a date alone is the end of that day), or 'never'.", valueName: "time"))
        var until: String?
        @Flag(help: "Remove the hold.")
        var release = false

        func validate() throws {
            if (until == nil) == !release { throw ValidationError("give either --until TIME or --release") }
        }

        func run() throws {
            let repo = try repository.open()
            let p = try repo.resolve(point)
            try repo.refuseRounded(point, resolved: p)
            let t = try parseHold(until, option: "--until")
            try repo.keep(p, until: t, wait: wait.wait)
            Output.current.result(t.map { "point \(p.id.prefix(12)) is kept until \(TimeDisplay.retainUntil($0))" } ?? "point \(p.id.prefix(12)) has no hold")
        }
    }
}
