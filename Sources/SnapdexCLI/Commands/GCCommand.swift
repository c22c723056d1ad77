import ArgumentParser
import SnapdexCore

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
        Output.current.result("removed \(n) unreferenced block(s)")
    }
}
