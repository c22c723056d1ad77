@preconcurrency import CEditLine
import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct BrowseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Browse a restore point in an interactive shell.",
        discussion: """
            The prompt is SOURCE@TIME:/current/dir>. Commands: ls, cd, pwd, info, find, \
            versions, diff, points, use, mark, unmark, marked, restore, cat, help, exit; \
            `help COMMAND` shows each one's options. Line editing, history (kept per repository) \
            and tab completion of commands and catalog paths come from libedit.

            When standard input is not a terminal, commands are read line by line with no prompt, \
            so a session can be scripted; a failing command prints its error and the shell goes on.

            Examples:
              snapdex browse home@latest
              printf 'cd /alice\\nls -l\\nmark docs\\nrestore --to /tmp/rescue\\n' | snapdex browse home@latest

            EXIT STATUS: 0 every command succeeded; 1 a command failed (or the point is unknown).
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The point to start in (default: the most recently indexed point).")
    var point: String?

    func run() throws {
        let repo = try repository.open()
        let start: PointRecord
        if let point {
            start = try repo.resolve(point)
        } else {
            guard let newest = try repo.points().max(by: { $0.indexedAt < $1.indexedAt }) else {
                throw SnapdexError.invalidArgument("the repository has no restore points yet; index one with `snapdex index`")
            }
            start = newest
        }
        let shell = try BrowseShell(repository: repo, point: start)
        let ok = isatty(0) == 1 ? shell.interactive() : shell.scripted()
        if !ok { throw CommandExit(ExitStatus.failure) }
    }
}

/// The state of one browse session: where the user is and what is marked.
final class BrowseShell {
    let repository: Repository
    private(set) var point: PointRecord
    private(set) var reader: CatalogReader
    var cwd: [UInt8] = []
    var marked: [[UInt8]] = []
    let out = Output.current
    nonisolated(unsafe) static var current: BrowseShell?

    init(repository: Repository, point: PointRecord) throws {
        self.repository = repository
        self.point = point
        reader = try repository.reader(for: point)
    }

    /// How the shell names its point to people: `SOURCE@TIME`.
    var pointName: String { "\(point.source)@\(point.pointTime.rfc3339())" }

    var prompt: String { "\(pointName):\(String(decoding: PathBytes.display(cwd), as: UTF8.self))> " }

    func use(_ p: PointRecord) throws {
        let r = try repository.reader(for: p)
        point = p
        reader = r
        if try r.entry(at: cwd)?.type != .directory { cwd = [] }
    }

    /// A path the user typed, relative to the current directory, in catalog form.
    func resolve(_ text: String) throws -> [UInt8] {
        let base = text.hasPrefix("/") ? Array(text.utf8) : PathBytes.display(cwd) + [PathBytes.slash] + Array(text.utf8)
        guard let p = PathBytes.normalize(base) else { throw SnapdexError.invalidArgument("\(text) climbs above the snapshot root") }
        return p
    }

    /// A typed path as an absolute path for the command-line commands. Names that are not
    /// UTF-8 cannot pass through a String; they are refused rather than mangled.
    func display(_ text: String) throws -> String {
        let p = PathBytes.display(try resolve(text))
        guard let s = String(validating: p, as: UTF8.self) else {
            throw SnapdexError.invalidArgument("\(text) is not valid UTF-8; use the snapdex command line for it")
        }
        return s
    }

    /// Runs one line; returns false when it failed, nil when the shell should end.
    func execute(_ line: String) -> Bool? {
        let words: [String]
        do { words = try ShellWords.split(line) } catch {
            out.error("snapdex: \(error)")
            return false
        }
        guard let first = words.first else { return true }
        if first == "exit" || first == "quit" { return nil }
        guard ShellCommand.names.contains(first) else {
            out.error("snapdex: unknown command '\(first)'; type `help` for the list")
            return false
        }
        do {
            var command = try ShellCommand.parseAsRoot(words)
            guard let runnable = command as? ShellRunnable else {
                try command.run()
                return true
            }
            try runnable.run(in: self)
            out.flush()
            return true
        } catch let e as SnapdexError {
            out.error("snapdex: \(e)")
        } catch let e as CommandExit {
            return e.status == 0
        } catch {
            let code = ShellCommand.exitCode(for: error)
            if code == .success {
                out.line(ShellCommand.fullMessage(for: error))
                out.flush()
                return true
            }
            out.error("snapdex: \(ShellCommand.message(for: error).split(separator: "\n").first ?? "")")
        }
        out.flush()
        return false
    }

    /// Reads commands line by line (standard input by default), no prompt; true when every
    /// one succeeded.
    func scripted(next: () -> String? = { readLine() }) -> Bool {
        var ok = true
        while let line = next() {
            guard let result = execute(line) else { break }
            ok = ok && result
        }
        return ok
    }

    /// Line editing, history and completion through libedit.
    func interactive() -> Bool {
        BrowseShell.current = self
        let history = repository.root + "/history"
        read_history(history)
        rl_attempted_completion_function = { text, _, _ in
            rl_completion_matches(text) { text, state in BrowseShell.complete(text, state) }
        }
        var ok = true
        while true {
            out.flush()
            guard let raw = readline(prompt) else {
                out.line("")
                break
            }
            let line = String(cString: raw)
            free(raw)
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(line) }
            guard let result = execute(line) else { break }
            ok = ok && result
        }
        write_history(history)
        return ok
    }

    nonisolated(unsafe) private static var candidates: [String] = []

    /// readline's completion generator: commands for the first word, catalog paths after.
    static func complete(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
        guard let shell = current, let text else { return nil }
        if state == 0 {
            let word = String(cString: text)
            let line = rl_line_buffer.map { String(cString: $0) } ?? ""
            let isFirst = !line.trimmingCharacters(in: .whitespaces).contains(" ")
            if isFirst {
                candidates = ShellCommand.names.filter { $0.hasPrefix(word) }
            } else {
                var dirText = ""
                var prefix = word
                if let slash = word.lastIndex(of: "/") {
                    dirText = String(word[...slash])
                    prefix = String(word[word.index(after: slash)...])
                }
                let dir = (try? shell.resolve(dirText.isEmpty ? "." : dirText)) ?? shell.cwd
                let entries = (try? shell.reader.list(dir, level: .names)) ?? []
                candidates = (entries ?? []).compactMap { e in
                    let name = String(decoding: e.name, as: UTF8.self)
                    guard name.hasPrefix(prefix) else { return nil }
                    return dirText + name + (e.type == .directory ? "/" : "")
                }
            }
        }
        guard Int(state) < candidates.count else { return nil }
        return strdup(candidates[Int(state)])
    }
}

/// Splits a shell line into words: whitespace separates, '…' and "…" quote, \ escapes.
enum ShellWords {
    struct Unterminated: Error, CustomStringConvertible {
        var description: String { "unterminated quote; close it and try again" }
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escape = false
        for c in line {
            if escape {
                current.append(c)
                escape = false
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escape = true } else { current.append(c) }
                continue
            }
            switch c {
            case "\\":
                escape = true
                inWord = true
            case "'", "\"":
                quote = c
                inWord = true
            case " ", "\t":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            default:
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { throw Unterminated() }
        if inWord { words.append(current) }
        return words
    }
}
