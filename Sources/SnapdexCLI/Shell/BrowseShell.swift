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
            and tab completion of commands and catalog paths come from libedit; Tab quotes names \
            as ls prints them. Ctrl-C cancels the line being typed, or stops the running command, \
            and keeps the marks (a restore stops between entries: what it restored stays, its \
            archive is not written, and `snapdex sessions` shows it cancelled); Ctrl-D or exit leaves. On a terminal, output longer than the \
            screen goes through $PAGER (default: less -R), and cat shows what a binary file is \
            instead of printing it (cat -f prints it).

            When standard input is not a terminal, commands are read line by line with no prompt, \
            so a session can be scripted; a failing command prints its error and the shell goes on.

            Examples:
              snapdex browse home@latest
              printf 'cd /alice\\nls -l\\nmark docs\\nrestore --to /tmp/rescue\\n' | snapdex browse home@latest

            EXIT STATUS: 0 every command succeeded; 1 a command failed (or the point is unknown); \
            3 a command met a damaged or missing catalog block or manifest.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The point to start in (default: the most recently indexed point).", completion: .pointReference)
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
        if shell.metDamage { throw CommandExit(ExitStatus.damaged) }
        if !ok { throw CommandExit(ExitStatus.failure) }
    }
}

/// The state of one browse session: where the user is and what is marked.
final class BrowseShell {
    let repository: Repository
    private(set) var point: PointRecord
    private(set) var reader: CatalogReader
    var cwd: [UInt8] = []
    var marked: [MarkedEntry] = []
    /// Where commands print: `Output.current`, which paging swaps for a buffer.
    var out: Output { Output.current }
    /// Whether a person is at a terminal: then `cat` describes binary files instead of
    /// printing them and long output is paged.
    var atTerminal = false
    /// Whether a command failed on damage, so that a script's exit status tells damage (3)
    /// from a mistyped command (1), as every other command's does.
    private(set) var metDamage = false

    init(repository: Repository, point: PointRecord) throws {
        self.repository = repository
        self.point = point
        reader = try repository.reader(for: point)
    }

    /// How the shell names its point to people: `SOURCE@TIME`.
    var pointName: String { Self.name(of: point) }

    static func name(of point: PointRecord) -> String { "\(point.source)@\(point.pointTime.exactRFC3339())" }

    var prompt: String { "\(pointName):\(String(decoding: Format.quoted(PathBytes.display(cwd)), as: UTF8.self))> " }

    func use(_ p: PointRecord) throws {
        let r = try repository.reader(for: p)
        point = p
        reader = r
        if try r.entry(at: cwd)?.type != .directory { cwd = [] }
    }

    /// A path the user typed, relative to the current directory, in catalog form. Bytes that
    /// are not UTF-8 arrive through `ShellBytes`.
    func resolve(_ text: String) throws -> [UInt8] {
        let typed = ShellBytes.bytes(text)
        let base = typed.first == PathBytes.slash ? typed : PathBytes.display(cwd) + [PathBytes.slash] + typed
        guard let p = PathBytes.normalize(base) else { throw SnapdexError.invalidArgument("\(text) climbs above the snapshot root") }
        return p
    }

    /// A typed path as an absolute path for the command-line commands. Names that are not
    /// UTF-8 cannot pass through a String; they are refused rather than mangled.
    func display(_ text: String) throws -> String {
        let p = PathBytes.display(try resolve(text))
        guard let s = String(validating: p, as: UTF8.self) else {
            throw SnapdexError.invalidArgument("\(String(decoding: Format.quoted(p), as: UTF8.self)) is not valid UTF-8; this command needs the snapdex command line for it (`cat` and `restore` take it here)")
        }
        return s
    }

    /// Commands whose output can be long, paged on a terminal.
    static let paged: Set<String> = ["ls", "find", "versions", "diff", "points", "marked", "cat", "help", "info"]

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
        Interrupt.clear()
        let pager = atTerminal && Self.paged.contains(first) ? Pager() : nil
        defer {
            pager?.finish()
            Interrupt.clear()  // this command's Ctrl-C is spent
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
            if e.exitCode == ExitStatus.damaged { metDamage = true }
            out.error("snapdex: \(ShellAdvice.message(for: e, in: self))")
        } catch is Interrupt.Cancelled {
            out.error("\ninterrupted")
        } catch let e as CommandExit {
            if e.status == ExitStatus.damaged { metDamage = true }
            return e.status == 0
        } catch {
            let code = ShellCommand.exitCode(for: error)
            if code.rawValue == ExitStatus.damaged { metDamage = true }
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

    /// Line editing, history and completion through libedit; Ctrl-C cancels the line or
    /// the running command, never the shell.
    func interactive() -> Bool {
        atTerminal = isatty(1) == 1
        Interrupt.install()
        let editor = LineEditor(program: "snapdex", historyFile: repository.root + "/history",
                                prompt: { [unowned self] in prompt }, complete: { [unowned self] in complete($0) })
        var ok = true
        loop: while true {
            out.flush()
            switch editor.read() {
            case .end:
                out.line("")
                break loop
            case .cancelled:
                continue
            case .line(let line):
                guard let result = execute(line) else { break loop }
                ok = ok && result
            }
        }
        return ok
    }

    /// Tab on the text before the cursor: a command name for the first word, a catalog path
    /// after it. The word is replaced by the completed name quoted as `ls` prints it; a folder
    /// ends in `/` and no space, so Tab goes on into it.
    func complete(_ before: String) -> LineEditor.Completion {
        let t = ShellWords.tokenize(before)
        let length = before.unicodeScalars.count
        let typed = t.endsInSpace ? ShellWords.Word(start: length, bytes: []) : (t.words.last ?? ShellWords.Word(start: length, bytes: []))
        let isFirst = t.words.isEmpty || (t.words.count == 1 && !t.endsInSpace)
        let replaced = length - typed.start
        if isFirst {
            let word = String(decoding: typed.bytes, as: UTF8.self)
            let hits = ShellCommand.names.filter { $0.hasPrefix(word) }
            if hits.count == 1 { return .replace(characters: replaced, text: hits[0] + " ") }
            let common = hits.dropFirst().reduce(hits.first ?? "") { String(zip($0, $1).prefix { $0 == $1 }.map(\.0)) }
            if common.count > word.count { return .replace(characters: replaced, text: common) }
            return hits.isEmpty ? .nothing : .choices(hits)
        }
        if typed.bytes.first == UInt8(ascii: "-") { return .nothing }
        let word = typed.bytes
        let slash = word.lastIndex(of: PathBytes.slash)
        let dirPart = slash.map { Array(word[...$0]) } ?? []
        let prefix = slash.map { Array(word[($0 + 1)...]) } ?? word
        guard let dir = try? resolve(ShellBytes.string(dirPart.isEmpty ? Array(".".utf8) : dirPart)),
              let entries = (try? reader.list(dir, level: .names)) ?? nil else { return .nothing }
        let hits = entries.filter { $0.name.starts(with: prefix) }
        guard !hits.isEmpty else { return .nothing }
        func quoted(_ name: [UInt8], folder: Bool) -> String {
            let q = Format.quoted(dirPart + name)
            return String(decoding: q, as: UTF8.self) + (folder ? "/" : "")
        }
        if hits.count == 1 {
            let e = hits[0]
            return .replace(characters: replaced, text: quoted(e.name, folder: e.type == .directory) + (e.type == .directory ? "" : " "))
        }
        var common = hits[0].name
        for h in hits.dropFirst() {
            common = Array(zip(common, h.name).prefix { $0 == $1 }.map(\.0))
        }
        // Only whole UTF-8 characters: a common prefix that ends inside one is cut back.
        while !common.isEmpty, String(validating: common, as: UTF8.self) == nil, common.count > prefix.count,
              common.last! >= 0x80 { common.removeLast() }
        if common.count > prefix.count { return .replace(characters: replaced, text: quoted(common, folder: false)) }
        return .choices(hits.map { String(decoding: Format.quoted($0.name), as: UTF8.self) + ($0.type == .directory ? "/" : "") })
    }
}

/// A marked path and the point it was marked in: `restore` takes it from that point, even
/// after `use` moved the shell to another.
struct MarkedEntry {
    let path: [UInt8]
    var point: PointRecord
}

/// Advice in errors, told as the shell's own commands: inside the shell `ls` and `points`
/// work, `snapdex ls POINT` does not.
enum ShellAdvice {
    static func message(for error: SnapdexError, in shell: BrowseShell) -> String {
        switch error {
        case .pathNotFound(_, let path):
            return "\(path) is not in this point (\(shell.pointName)); list its folder with `ls`, or see its other versions with `versions \(path)`"
        case .pointUnknown(let r):
            return "no restore point matches '\(r)'; list this source's points with `points`"
        default:
            return "\(error)".replacingOccurrences(of: "`snapdex points`", with: "`points`")
        }
    }
}

/// Output longer than the screen, on a terminal, through $PAGER (default `less -R`): the
/// first screenful is held back; when more comes, the pager starts and everything streams
/// through it, so `cat -f` of a large file is not held in memory.
final class Pager {
    private let saved = Output.current
    private var held: [UInt8] = []
    private var lines = 0
    private var pipe: UnsafeMutablePointer<FILE>?
    private let rows: Int
    private let columns: Int
    private var oldPipeAction = sigaction()

    init() {
        var ws = winsize()
        let known = ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0
        rows = known ? Int(ws.ws_row) : 24
        columns = known ? Int(ws.ws_col) : 80
        Output.current = Output(sink: { [unowned self] in take($0) })
    }

    private func take(_ bytes: [UInt8]) {
        if let pipe {
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, pipe) }
            return
        }
        held += bytes
        lines += bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        guard lines >= rows - 1 || held.count >= rows * columns, !Interrupt.requested else { return }
        // A pager that quits early (q, or Ctrl-C) closes the pipe: the writes fail with EPIPE
        // instead of killing the shell.
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigaction(SIGPIPE, &ignore, &oldPipeAction)
        fflush(stdout)
        guard let p = popen(Pager.command, "w") else {
            sigaction(SIGPIPE, &oldPipeAction, nil)
            return
        }
        pipe = p
        _ = held.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, p) }
        held = []
    }

    func finish() {
        Output.current.flush()
        Output.current = saved
        if let pipe {
            pclose(pipe)
            sigaction(SIGPIPE, &oldPipeAction, nil)
        } else if !Interrupt.requested {
            saved.write(held)
            // A last line without its newline would run into the prompt.
            if let last = held.last, last != 10 { saved.write([10]) }
            saved.flush()
        }
    }

    static var command: String {
        let pager = ProcessInfo.processInfo.environment["PAGER"] ?? ""
        return pager.isEmpty ? "less -R" : pager
    }
}
