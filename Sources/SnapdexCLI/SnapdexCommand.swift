import ArgumentParser
import SnapdexCore

/// The root command: it only lists the subcommands.
public struct SnapdexCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapdex",
        abstract: "Index file-system snapshots into catalogs; find, browse and restore single files from them.",
        discussion: """
            Snapdex walks snapshot directories (ZFS .zfs/snapshot, btrfs, LVM, NAS .snapshot \
            folders, rsnapshot trees) into compressed catalogs kept in a repository, one full \
            catalog per restore point, and answers where a file is and what it looked like.

            The repository is --repo DIR, else $SNAPDEX_REPO, else ~/.local/share/snapdex.

            EXIT STATUS: 0 success; 1 failure; 2 usage error; 3 damaged data found; \
            4 partial success (some items failed).
            """,
        version: "snapdex \(SnapdexVersion.tool) (catalog format: writes \(FormatConstants.catalogVersion), reads 1-\(FormatConstants.catalogMaxReadVersion))",
        subcommands: [
            InitCommand.self, SourceCommand.self, IndexCommand.self, PointsCommand.self, LsCommand.self,
            FindCommand.self, VersionsCommand.self, DiffCommand.self, InfoCommand.self, CatCommand.self,
            RestoreCommand.self, BrowseCommand.self,
            PolicyCommand.self, ExpireCommand.self, ForgetCommand.self, PointCommand.self,
            VerifyCommand.self, RescanCommand.self, GCCommand.self, SessionsCommand.self,
        ])

    public init() {}

    /// Parses and runs one command line, printing errors as one line; returns the exit status.
    public static func runMain(_ arguments: [String]? = nil) -> Int32 {
        let out = Output.current
        defer { out.flush() }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return ExitStatus.success
        } catch let e as SnapdexError {
            out.error("snapdex: \(e)")
            return e.exitCode
        } catch let e as CommandExit {
            return e.status
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                out.line(fullMessage(for: error))
                return ExitStatus.success
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            if code == .validationFailure || code.rawValue == 64 {
                out.error("snapdex: \(message) (see `snapdex help`)")
                return ExitStatus.usage
            }
            out.error("snapdex: \(message)")
            return ExitStatus.failure
        }
    }
}

/// Ends a command with an exit status after it has printed what it had to say.
public struct CommandExit: Error {
    public let status: Int32
    public init(_ status: Int32) { self.status = status }
}

/// `--repo`, accepted by every command.
public struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The repository directory (default: $SNAPDEX_REPO, else ~/.local/share/snapdex).", valueName: "dir"))
    public var repo: String?

    public init() {}

    public var path: String { repo ?? Repository.defaultPath() }

    public func open() throws -> Repository { try Repository.open(at: path) }
}

/// `--wait`, accepted by every command that writes.
public struct WaitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Seconds to wait for another writer to finish before failing.", valueName: "seconds"))
    public var wait: Double = 0

    public init() {}
}

func parseTime(_ text: String?, endOfDay: Bool = false) throws -> Timestamp? {
    guard let text else { return nil }
    guard let t = TimeParser.parse(text, endOfDay: endOfDay) else { throw SnapdexError.invalidTime(text) }
    return t
}
