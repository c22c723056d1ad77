import ArgumentParser
import SnapdexCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new, empty repository.",
        discussion: """
            Creates the repository directory (mode 0700) with its database, catalog and block \
            folders.

            Examples:
              snapdex init --repo /srv/snapdex
              SNAPDEX_REPO=/srv/snapdex snapdex init

            EXIT STATUS: 0 created; 1 it exists already or cannot be created.
            """)

    @OptionGroup var repository: RepositoryOptions

    func run() throws {
        let repo = try repository.create()
        if !Log.quiet { Output.current.line("created repository \(repo.location)") }
    }
}
