import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// A browse shell command: parsed by the argument parser, run against the session.
protocol ShellRunnable {
    func run(in shell: BrowseShell) throws
}

/// The browse shell's commands, declared with the same machinery (and, where they share
/// options, the same option groups) as the command line, so help and errors match.
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "",
        abstract: "Commands of the snapdex browse shell.",
        subcommands: [Ls.self, Cd.self, Pwd.self, Info.self, Find.self, Versions.self, Diff.self, Points.self, Use.self,
                      Mark.self, Unmark.self, Marked.self, Restore.self, Cat.self, Help.self],
        helpNames: [])

    static let names = ["ls", "cd", "pwd", "info", "find", "versions", "diff", "points", "use", "mark", "unmark", "marked",
                        "restore", "cat", "help", "exit"]

    struct Ls: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "List a directory of the current point.")
        @Flag(name: .short, help: "Long format: type and permissions, links, owner, size, mtime.")
        var long = false
        @Argument(help: "The directory (default: the current one).")
        var path: String = "."

        func run(in shell: BrowseShell) throws {
            let p = try shell.resolve(path)
            try shell.repository.list(reader: shell.reader, pointName: shell.pointName, path: p, recursive: false) { g in
                try Interrupt.check()
                for e in g.entries {
                    let path = PathBytes.join(g.path, e.name)
                    let mark: [UInt8] = shell.marked.contains { $0.path == path && $0.point.id == shell.point.id } ? [42, 32] : []
                    shell.out.line(bytes: mark + (long ? LongFormat.line(e) : Format.quoted(e.name) + (e.type == .directory ? [47] : [])))
                }
            }
        }
    }

    struct Cd: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Change the current directory.")
        @Argument(help: "The directory (default: the root).")
        var path: String = "/"

        func run(in shell: BrowseShell) throws {
            let p = try shell.resolve(path)
            guard let e = try shell.reader.entry(at: p) else {
                throw SnapdexError.pathNotFound(point: shell.pointName, path: String(decoding: PathBytes.display(p), as: UTF8.self))
            }
            guard e.type == .directory else { throw SnapdexError.invalidArgument("\(path) is not a directory") }
            shell.cwd = p
        }
    }

    struct Pwd: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Print the current directory.")
        func run(in shell: BrowseShell) throws { shell.out.line(bytes: Format.quoted(PathBytes.display(shell.cwd))) }
    }

    struct Info: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Show every recorded field of an entry.")
        @Argument(help: "The entry.")
        var path: String

        func run(in shell: BrowseShell) throws {
            try InfoCommand.parse([shell.point.id, try shell.display(path), "--repo", shell.repository.location]).run()
        }
    }

    struct Find: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Find entries by name under the current directory of this point.")
        @Argument(help: "The glob (or with --regex, the regular expression) to match.")
        var pattern: String
        @OptionGroup var filters: FindFilters

        func run(in shell: BrowseShell) throws {
            let q = try filters.query(pattern)
            try shell.reader.forEachGroup(under: shell.cwd, level: .content) { g in
                try Interrupt.check()
                for e in g.entries where q.matches(dir: g.path, e) {
                    shell.out.line(bytes: Format.quoted(PathBytes.display(PathBytes.join(g.path, e.name))))
                }
                return true
            }
        }
    }

    struct Versions: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Show each version of a path across this source's points.")
        @Argument(help: "The path.")
        var path: String

        func run(in shell: BrowseShell) throws {
            try VersionsCommand.parse([shell.point.source, try shell.display(path), "--repo", shell.repository.location]).run()
        }
    }

    struct Diff: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Show what changed between another point and this one.")
        @Argument(help: "The other (older) point.")
        var other: String
        @Argument(help: "Only this subtree (default: the current directory).")
        var path: String = "."

        func run(in shell: BrowseShell) throws {
            try DiffCommand.parse([other, shell.point.id, try shell.display(path), "--repo", shell.repository.location]).run()
        }
    }

    struct Points: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "List this source's points.")
        func run(in shell: BrowseShell) throws {
            try PointsCommand.parse(["--source", shell.point.source, "--repo", shell.repository.location]).run()
        }
    }

    struct Use: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Switch to another point, keeping the directory (if it exists there) and the marks.")
        @Argument(help: "The point: id prefix, SOURCE@latest or SOURCE@TIME; a bare TIME means this source.")
        var point: String

        func run(in shell: BrowseShell) throws {
            let ref = point.contains("@") || point.allSatisfy(\.isHexDigit) ? point : "\(shell.point.source)@\(point)"
            try shell.use(try shell.repository.resolve(ref))
        }
    }

    struct Mark: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(
            abstract: "Mark entries of the current point for restore: a path, or a glob on names in the current directory.",
            discussion: "A mark remembers its point: after `use`, restore still takes it from there. Marking a marked path again moves its mark to the current point.")
        @Argument(help: "Paths or globs.")
        var patterns: [String]

        func run(in shell: BrowseShell) throws {
            for p in try ShellCommand.matching(patterns, in: shell) {
                if let i = shell.marked.firstIndex(where: { $0.path == p }) {
                    shell.marked[i].point = shell.point
                } else {
                    shell.marked.append(MarkedEntry(path: p, point: shell.point))
                }
            }
            shell.out.line("\(shell.marked.count) marked")
        }
    }

    struct Unmark: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Unmark entries (all of them with no argument).")
        @Argument(help: "Paths or globs.")
        var patterns: [String] = []

        func run(in shell: BrowseShell) throws {
            if patterns.isEmpty {
                shell.marked.removeAll()
            } else {
                let drop = Set(try ShellCommand.matching(patterns, in: shell))
                shell.marked.removeAll { drop.contains($0.path) }
            }
            shell.out.line("\(shell.marked.count) marked")
        }
    }

    struct Marked: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "List the marked entries, each with the point it was marked in.")
        func run(in shell: BrowseShell) throws {
            for m in shell.marked {
                shell.out.line(bytes: Format.quoted(PathBytes.display(m.path)) + Array("  (\(BrowseShell.name(of: m.point)))".utf8))
            }
        }
    }

    struct Restore: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(
            abstract: "Restore paths of the current point (the marked entries, each from its own point, when none is given).")
        @Argument(help: "Paths to restore (default: the marked entries).")
        var paths: [String] = []
        @Option(help: ArgumentHelp("Restore under this directory.", valueName: "dir"))
        var to: String?
        @Flag(help: "Restore under the source's live path.")
        var inPlace = false
        @Option(help: ArgumentHelp("Write a pax archive to FILE instead (GNU tar and bsdtar extract it).", valueName: "file"))
        var tar: String?
        @OptionGroup var conflicts: ConflictOptions

        func run(in shell: BrowseShell) throws {
            // Each mark comes from the point it was marked in; named paths from the current one.
            var groups: [(point: PointRecord, paths: [[UInt8]])] = []
            if paths.isEmpty {
                for m in shell.marked {
                    if let i = groups.firstIndex(where: { $0.point.id == m.point.id }) { groups[i].paths.append(m.path) }
                    else { groups.append((m.point, [m.path])) }
                }
            } else {
                groups = [(shell.point, try paths.map { try shell.resolve($0) })]
            }
            guard !groups.isEmpty else { throw SnapdexError.invalidArgument("nothing to restore: name paths or `mark` some first") }
            guard [to != nil, inPlace, tar != nil].filter({ $0 }).count == 1 else {
                throw SnapdexError.invalidArgument("give one of --to DIR, --tar FILE or --in-place")
            }
            if tar == "-" {
                throw SnapdexError.invalidArgument("the shell's output is this terminal; give --tar a file name")
            }
            if groups.count > 1, tar != nil {
                throw SnapdexError.invalidArgument("the marks come from \(groups.count) points and an archive holds one point's files; restore them with --to DIR, or unmark all but one point's marks (`marked` shows each one's point)")
            }
            var worst: CommandExit?
            for g in groups {
                if groups.count > 1 { shell.out.line("from \(BrowseShell.name(of: g.point)):") }
                do {
                    try RestoreCommand.restore(repo: shell.repository, point: g.point, paths: g.paths, to: to, inPlace: inPlace, tar: tar,
                                               conflicts: conflicts, json: false, shouldStop: { Interrupt.requested })
                } catch let e as CommandExit {
                    worst = e  // partial: the other points' marks are still restored
                }
            }
            if let worst { throw worst }
        }
    }

    struct Cat: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(
            abstract: "Print a file's bytes from the point's snapshot.",
            discussion: "On a terminal, a binary file is described (type and size) instead of printed; -f prints it anyway.")
        @Flag(name: [.customShort("f"), .long], help: "Print it even if it is binary and the output is a terminal.")
        var force = false
        @Argument(help: "The file.")
        var path: String

        func run(in shell: BrowseShell) throws {
            let p = try shell.resolve(path)
            let out = shell.out
            var first = true
            try shell.repository.readSnapshotFile(point: shell.point, path: p) { chunk in
                try Interrupt.check()
                if first, shell.atTerminal, !force, let kind = FileKind.binary(Array(chunk.prefix(8192))) {
                    let e = try shell.reader.entry(at: p)
                    let size = e.map { " (\(Format.bytes($0.size)))" } ?? ""
                    let name = String(decoding: Format.quoted(PathBytes.display(p)), as: UTF8.self)
                    out.line("\(name): \(kind)\(size), not printed to the terminal; `cat -f \(path)` prints it, `restore \(path) --to DIR` restores it")
                    throw CommandExit(ExitStatus.success)
                }
                first = false
                out.write(Array(chunk))
            }
        }
    }

    struct Help: ParsableCommand, ShellRunnable {
        static let configuration = CommandConfiguration(abstract: "Show the commands, or one command's options.")
        @Argument(help: "A command.")
        var command: String?

        func run(in shell: BrowseShell) throws {
            if let command {
                guard let type = ShellCommand.configuration.subcommands.first(where: { $0._commandName == command }) else {
                    throw SnapdexError.invalidArgument("no shell command '\(command)'; type `help` for the list")
                }
                shell.out.line(type.helpMessage(columns: 100))
            } else {
                for t in ShellCommand.configuration.subcommands {
                    shell.out.line(Format.pad(t._commandName, 10) + (t.configuration.abstract))
                }
                shell.out.line(Format.pad("exit", 10) + "Leave the shell.")
            }
        }
    }

    /// Catalog paths named by `patterns`: a glob without '/' matches names in the current
    /// directory; anything else is a path.
    static func matching(_ patterns: [String], in shell: BrowseShell) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for pattern in patterns {
            if !pattern.contains("/"), pattern.contains(where: { "*?[".contains($0) }) {
                let names = try shell.reader.list(shell.cwd, level: .names) ?? []
                let hits = names.filter { e in FS.withCName(e.name) { fnmatch(pattern, $0, 0) == 0 } }
                if hits.isEmpty { throw SnapdexError.invalidArgument("nothing in this directory matches \(pattern)") }
                out += hits.map { PathBytes.join(shell.cwd, $0.name) }
            } else {
                let p = try shell.resolve(pattern)
                guard try shell.reader.entry(at: p, level: .names) != nil else {
                    throw SnapdexError.pathNotFound(point: shell.pointName, path: pattern)
                }
                out.append(p)
            }
        }
        return out
    }
}
