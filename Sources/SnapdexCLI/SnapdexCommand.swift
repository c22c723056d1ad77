import ArgumentParser
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// The root command: it only lists the subcommands.
public struct SnapdexCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapdex",
        abstract: "Index file-system snapshots into catalogs; find, browse and restore single files from them.",
        discussion: """
            Snapdex walks snapshot directories (ZFS .zfs/snapshot, btrfs, LVM, NAS .snapshot \
            folders, rsnapshot trees) into compressed catalogs kept in a repository, one full \
            catalog per restore point, and answers where a file is, what it looked like, and gets \
            it back.

            Examples:
              snapdex init --repo /srv/snapdex
              snapdex source add home --snapshots /tank/home/.zfs/snapshot --live-path /tank/home
              snapdex index --source home && snapdex find 'budget*.xlsx'

            OPTIONS every command takes, also before its name (snapdex -q --repo DIR index ...): \
            --repo DIR, -v (say more), -q (nothing but errors), --utc (print times in UTC). Times \
            are printed as local time with the zone's offset (2026-11-21 03:00:00 +0530); JSON \
            has RFC 3339 UTC.

            ENVIRONMENT: SNAPDEX_REPO is the repository when --repo is not given (else \
            ~/.local/share/snapdex). XDG_CACHE_HOME holds each host's cache of a repository \
            on object storage (else ~/.cache). TZ sets the zone of times without one, of dates shown to \
            people, and of retention's weeks, months and years. Snapdex prints no colour, so \
            NO_COLOR needs nothing.

            FILES: REPO/snapdex.db (the database), REPO/catalogs/SOURCE/*.manifest, \
            REPO/blocks/XX/HASH, REPO/lock, REPO/sessions.jsonl, REPO/history (browse). \
            Formats: snapdex-format(5). Retention rules: snapdex-retention(7).

            EXIT STATUS: 0 success. 1 failure: nothing was changed, or the repository was left \
            consistent. 2 usage error: a bad option, argument, name or time. 3 damaged data found \
            (verify, rescan, or a read that met a damaged manifest or block). 4 partial success: \
            some entries failed and the rest was done (restore).
            """,
        version: "snapdex \(SnapdexVersion.tool) (catalog format: writes \(FormatConstants.catalogVersion), reads 1-\(FormatConstants.catalogMaxReadVersion))",
        subcommands: [
            InitCommand.self, SourceCommand.self, IndexCommand.self, PointsCommand.self, LsCommand.self,
            FindCommand.self, VersionsCommand.self, DiffCommand.self, InfoCommand.self, CatCommand.self,
            RestoreCommand.self, BrowseCommand.self,
            PolicyCommand.self, ExpireCommand.self, ForgetCommand.self, PointCommand.self,
            VerifyCommand.self, RescanCommand.self, GCCommand.self, SessionsCommand.self, CopyCommand.self,
        ])

    public init() {}

    /// The words of the command line being run, as typed (before --repo and the like are
    /// hoisted): what an error's retry advice repeats.
    nonisolated(unsafe) static var typed: [String] = []

    /// Parses and runs one command line, printing errors as one line; returns the exit status.
    public static func runMain(_ arguments: [String]? = nil) -> Int32 {
        let out = Output.current
        defer { out.flush() }
        Log.level = .warning
        TimeDisplay.utc = false
        out.adviceRepository = nil
        // Without `arguments` this is the process's own command line: the process ends next.
        let exiting = arguments == nil
        let given = arguments ?? commandLine()
        typed = given
        if let why = GlobalOptions.misuse(given) {
            out.error("snapdex: \(why)")
            return ExitStatus.usage
        }
        let arguments = GlobalOptions.hoisted(given)
        if let unknown = GlobalOptions.unknownHelpTopic(arguments) {
            out.error("snapdex: no command named '\(unknown)'; list the commands with `snapdex help`")
            return ExitStatus.usage
        }
        do {
            var command = try parseAsRoot(arguments)
            // Requests to object storage are reported whether the command succeeded or not.
            defer { StoreUsage.report(json: arguments.contains("--json"), exiting: exiting) }
            try command.run()
            return ExitStatus.success
        } catch let e as SnapdexError {
            out.error("snapdex: \(e.advisingRerun(of: given))")
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

/// The options every command takes (`RepositoryOptions`), also accepted before the command's
/// name as people type them with git or zfs: `snapdex -v ls`, `snapdex --repo X points`.
enum GlobalOptions {
    static let flags: Set<String> = ["-v", "--verbose", "-q", "--quiet", "--utc"]

    /// The global options typed before the first word that is not one, and the rest.
    /// Combined short flags (`-vq`) count; a `--repo` with no value is left in the rest.
    static func leading(_ arguments: [String]) -> (globals: [String], rest: [String]) {
        var globals: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flags.contains(a) || a.hasPrefix("--repo=") || a.hasPrefix("--cache-size=") {
                globals.append(a)
                i += 1
            } else if a.count > 2, a.hasPrefix("-"), !a.hasPrefix("--"), a.dropFirst().allSatisfy({ $0 == "v" || $0 == "q" }) {
                globals += a.dropFirst().map { "-\($0)" }
                i += 1
            } else if (a == "--repo" || a == "--cache-size") && i + 1 < arguments.count {
                globals += [a, arguments[i + 1]]
                i += 2
            } else {
                break
            }
        }
        return (globals, Array(arguments[i...]))
    }

    /// `arguments` with the global options typed before the (sub)command's name moved just
    /// after it, where the command parses them. Before `help`, `--help` or `--version` they
    /// change nothing and are dropped.
    static func hoisted(_ arguments: [String]) -> [String] {
        let (globals, rest) = leading(arguments)
        guard !globals.isEmpty else { return arguments }
        if let first = rest.first, ["help", "--help", "-h", "--version"].contains(first) { return rest }
        let depth = commandPath(rest).count
        guard depth > 0 else { return arguments }
        return Array(rest[..<depth]) + globals + Array(rest[depth...])
    }

    /// What is wrong when global options are not followed by a command: one line, or nil.
    static func misuse(_ arguments: [String]) -> String? {
        let (globals, rest) = leading(arguments)
        guard !globals.isEmpty || rest.first == "--repo" else { return nil }
        guard let first = rest.first else {
            return "name a command after \(globals.joined(separator: " ")), such as `snapdex \(globals.joined(separator: " ")) points`; list the commands with `snapdex help`"
        }
        if first == "--repo" { return "--repo needs a directory: `snapdex --repo DIR COMMAND`" }
        if first.hasPrefix("-") || first == "help" || !commandPath(rest).isEmpty { return nil }
        return "no command named '\(first)'; list the commands with `snapdex help`"
    }

    /// The subcommands named at the start of `words` (`source add` gives two).
    static func commandPath(_ words: [String]) -> [ParsableCommand.Type] {
        var path: [ParsableCommand.Type] = []
        var command: ParsableCommand.Type = SnapdexCommand.self
        for w in words {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == w }) else { break }
            path.append(sub)
            command = sub
        }
        return path
    }

    /// For `snapdex help WORDS`: the first word that names no command, if any.
    static func unknownHelpTopic(_ arguments: [String]) -> String? {
        guard arguments.first == "help" else { return nil }
        let words = Array(arguments.dropFirst().prefix { !$0.hasPrefix("-") })
        let known = commandPath(words).count
        return known < words.count ? words[known] : nil
    }
}

/// The arguments as typed: each one's bytes as a path string (PathString), where
/// `CommandLine.arguments` would replace bytes that are not UTF-8 with U+FFFD.
func commandLine() -> [String] {
    (1..<Int(CommandLine.argc)).map { i in
        guard let p = CommandLine.unsafeArgv[i] else { return "" }
        return PathString.string(UnsafeBufferPointer(start: p, count: strlen(p)).map { UInt8(bitPattern: $0) })
    }
}

/// Ends a command with an exit status after it has printed what it had to say.
public struct CommandExit: Error {
    public let status: Int32
    public init(_ status: Int32) { self.status = status }
}

/// `--repo`, `-v`, `-q` and `--utc`, accepted by every command (and before it:
/// `GlobalOptions.hoisted`).
public struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The repository directory, or a repository on object storage that many hosts share: s3://BUCKET/PREFIX (endpoint and keys from the AWS_* variables) or file:///PATH (default: $SNAPDEX_REPO, else ~/.local/share/snapdex).", valueName: "dir"), completion: .directory)
    public var repo: String?
    @Option(name: .long, help: ArgumentHelp("For a repository on object storage: the most this host's cache keeps of the blocks it read (like 500M or 2G; default 1G).", valueName: "size"))
    public var cacheSize: String?
    @Flag(name: .shortAndLong, help: "Say more on standard error (what is being done, counts).")
    public var verbose = false
    @Flag(name: .shortAndLong, help: "Say only errors on standard error (no warnings).")
    public var quiet = false
    @Flag(name: .long, help: "Print times in UTC (+0000) instead of the local time of TZ.")
    public var utc = false

    public init() {}

    public var path: String { repo ?? Repository.defaultPath() }

    public func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet contradict each other; give one") }
        try refuseEmptyPaths(["--repo": repo])
        if let cacheSize, ByteSize.parse(cacheSize) == nil {
            throw ValidationError("--cache-size takes a size such as 500M or 2G, not '\(cacheSize)'")
        }
        // Applied here, once per parsed command line, so that commands which never open a
        // repository (init) are as quiet, and print times as, asked.
        configureLogging()
        Output.current.adviceRepository = adviceRepository
    }

    /// The repository advice must name with `--repo` (`Output.naming`): the one given by
    /// --repo or SNAPDEX_REPO, as an absolute path (or its URL), unless it is the one a
    /// command typed without either acts on (~/.local/share/snapdex). Advice is run from
    /// other folders and shells, where a relative path or SNAPDEX_REPO would name another.
    var adviceRepository: String? {
        let env = PathString.environment(["SNAPDEX_REPO", "HOME"])
        guard let given = repo ?? env["SNAPDEX_REPO"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard case .folder(let dir) = RepositoryAddress(given) else { return given }
        var absolute = dir
        if !dir.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { return given }
            let cwd = PathString.string(buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
            absolute = (cwd == "/" ? "" : cwd) + "/" + dir
        }
        var home = env
        home["SNAPDEX_REPO"] = nil
        return absolute == Repository.defaultPath(environment: home) ? nil : absolute
    }

    /// Opens the repository; `rebuild` (rescan) starts a repository on object storage with a
    /// new database in this host's cache.
    public func open(rebuild: Bool = false) throws -> Repository {
        configureLogging()
        let r: Repository
        switch RepositoryAddress(path) {
        case .folder(let dir):
            r = try Repository.open(at: dir)
            Log.info("repository \(r.root)")
        case .objectStore(let url):
            r = try Repository.open(store: try objectStore(url), cache: cacheOptions, rebuild: rebuild)
            Log.info("repository \(url), this host's cache in \(r.root)")
            r.mirror?.warn = { Log.warning($0) }
        }
        for note in r.notes { Log.warning(note) }
        // Damage to fix, not progress: said even with -q (as damage is), on one line.
        r.warn = { Output.current.error("snapdex: warning: \($0)") }
        return r
    }

    /// Creates the repository `--repo` names (`init`).
    public func create() throws -> Repository {
        configureLogging()
        switch RepositoryAddress(path) {
        case .folder(let dir): return try Repository.create(at: dir)
        case .objectStore(let url): return try Repository.create(store: try objectStore(url, creating: true), cache: cacheOptions)
        }
    }

    var cacheOptions: StoreCacheOptions {
        StoreCacheOptions(limit: cacheSize.flatMap(ByteSize.parse) ?? StoreMirror.defaultCacheLimit)
    }

    public func configureLogging() {
        // Only what was asked is applied: commands the browse shell runs parse their own
        // options, and must not undo those the shell was started with. `runMain` resets both.
        if quiet { Log.level = .error }
        if verbose { Log.level = .info }
        if utc { TimeDisplay.utc = true }
    }
}

/// `--wait`, accepted by every command that writes.
public struct WaitOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Seconds to wait for another writer to finish before failing (0 to 31536000).", valueName: "seconds"))
    public var wait: Double = 0

    public init() {}

    public func validate() throws {
        guard wait.isFinite, (0...WriterLock.maxWait).contains(wait) else {
            throw ValidationError("--wait takes a number of seconds from 0 to \(Int(WriterLock.maxWait)) (a year), not \(wait)")
        }
    }
}
