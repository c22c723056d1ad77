import ArgumentParser
import SnapdexCore

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
