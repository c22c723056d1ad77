import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program under a pseudo-terminal (python3's pty module) and types into it. Each step
/// is keys to send and text to wait for after what the previous step waited for (120 s at
/// most: CI shares two cores, and a wait ends as soon as the text shows); "" is a pause of
/// `pause` seconds instead. Prints the screen bytes (base64) and the exit status;
/// exits 1 naming the step whose text never came.
private let ptyDriver = #"""
import base64, json, os, pty, select, sys, time
steps = json.loads(sys.argv[1]); argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
screen = b""
seen = 0
def wait_for(text, limit):
    global screen, seen
    end = time.time() + limit
    while time.time() < end:
        at = screen.find(text.encode(), seen) if text else -1
        if at >= 0:
            seen = at + len(text.encode())
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: d = os.read(fd, 65536)
            except OSError: break
            if not d: break
            screen += d
    return not text
LIMIT = 120
ok = wait_for("> ", LIMIT)
failed = None if ok else "the first prompt"
for keys, expect, pause in steps:
    if failed: break
    os.write(fd, keys.encode("utf-8", "surrogateescape"))
    if not wait_for(expect, LIMIT if expect else pause): failed = repr(keys) + " never showed " + repr(expect)
status = None
end = time.time() + LIMIT
while time.time() < end and status is None:
    try:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r: screen += os.read(fd, 65536)
    except OSError: pass
    p, st = os.waitpid(pid, os.WNOHANG)
    if p: status = os.waitstatus_to_exitcode(st)
print(json.dumps({"screen": base64.b64encode(screen).decode(), "status": status, "failed": failed}))
"""#

struct TerminalSession {
    let screen: String
    let status: Int?
    let failed: String?
}

/// `steps`: (keys, text to wait for, pause in seconds when there is no text).
func runInTerminal(_ argv: [String], environment: [String: String], steps: [(String, String, Double)]) throws -> TerminalSession {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: steps.map { [$0.0, $0.1, $0.2] as [Any] }), as: UTF8.self)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", ptyDriver, json] + argv
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let o = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let screen = Data(base64Encoded: o["screen"] as! String) ?? Data()
    return TerminalSession(screen: String(decoding: screen, as: UTF8.self), status: o["status"] as? Int, failed: o["failed"] as? String)
}

@Suite struct TerminalShellTests {
    /// The browse shell as a person meets it: a terminal, Tab, Ctrl-C, Ctrl-D, a pager.
    @Test func browseShellUnderAPseudoTerminal() throws {
        guard let binary = builtSnapdex() else { return }
        let s = Scratch()
        let snap = s.path + "/snap"
        write(snap + "/bob/My Documents/file.txt", "in my documents\n")
        write(snap + "/bob/it's/q.txt", "quoted\n")
        write(snap + "/utf/café.txt", "utf8 name\n")
        write(snap + "/lat/placeholder", "")
        try FileManager.default.removeItem(atPath: snap + "/lat/placeholder")
        let dfd = open(snap + "/lat", O_RDONLY | O_DIRECTORY)
        let ffd = openat(dfd, [0x63, 0x61, 0x66, 0xe9, 0].map { CChar(bitPattern: $0) }, O_WRONLY | O_CREAT, 0o644)
        _ = Glibc.write(ffd, "latin1 name\n", 12)
        close(ffd)
        close(dfd)
        write(snap + "/bob/b.xlsx", "PK\u{3}\u{4}not text")
        for i in 0..<5_100 { write(snap + "/many/f\(i).txt", "") }  // a listing across many catalog chunks
        let huge = open(snap + "/huge.bin", O_WRONLY | O_CREAT, 0o644)
        _ = Glibc.write(huge, "huge start\n", 11)  // shows that cat runs, then Ctrl-C
        _ = ftruncate(huge, 8 << 30)  // long enough to read that Ctrl-C comes while cat runs
        close(huge)
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", snap, "--source", "home", "--at", "2026-01-01", "--repo", repo]).status == 0)

        let steps: [(String, String, Double)] = [
            // Tab quotes as ls prints: a folder with a space, completed without a space after
            // it, so the next Tab goes on inside it.
            ("cd bo\t", "b/", 0), ("My\t", "Documents", 0), ("\n", "> ", 0), ("pwd\n", "'/bob/My Documents'", 0),
            ("cd /bob/it\t", "'\\''s", 0), ("\n", "> ", 0), ("pwd\n", "'/bob/it'\\''s'", 0),
            // Non-ASCII and non-UTF-8 names complete to something that reads back.
            ("cat /utf/c\t\n", "utf8 name", 0), ("cat /lat/c\t\n", "latin1 name", 0),
            // Ctrl-C cancels the line and keeps the marks; an error's advice names shell commands.
            // (Each waits for the prompt first: keys typed before it are the terminal's, and
            // its Ctrl-C flushes them.)
            ("mark q.txt\n", "1 marked", 0), ("", "> ", 0), ("some half-typed line", "line", 0), ("\u{3}", "^C", 0),
            ("", "> ", 0), ("marked\n", "q.txt", 0),
            ("cd /nowhere\n", "list its folder with `ls`", 0),
            // A binary file is described, not dumped; restore writes an archive.
            ("cat /bob/b.xlsx\n", "Zip archive", 0), ("restore --tar \(s.path)/marked.tar\n", "restored 1 file", 0),
            // Long output goes through the pager.
            ("ls /many\n", "PAGED:f999.txt", 0),
            // Ctrl-C stops a running command and the shell goes on, marks kept.
            ("", "> ", 0), ("cat -f /huge.bin\n", "PAGED:huge start", 0), ("\u{3}", "interrupted", 0), ("", "> ", 0), ("marked\n", "q.txt", 0),
            // (A pause after the prompt: a key sent while libedit sets up the terminal can
            // be the terminal's, where Ctrl-D on its own is lost.)
            ("", "> ", 0), ("", "", 0.5), ("\u{4}", "", 0.5),
        ]
        let t = try runInTerminal([binary, "browse", "home@latest", "--repo", repo],
                                  environment: ["TERM": "xterm", "PAGER": "sed s/^/PAGED:/", "LANG": "C.UTF-8"], steps: steps)
        #expect(t.failed == nil, "\(t.failed ?? ""); screen:\n\(t.screen.suffix(3000).debugDescription)")
        #expect(t.status == 1, "Ctrl-D ends the shell; a command failed (cd /nowhere), so it exits 1; screen:\n\(t.screen.suffix(1500).debugDescription)")
        #expect(!t.screen.contains("\u{7}"), "Tab rang the bell")
        #expect(!t.screen.contains("Unexpected argument"))
        #expect(FileManager.default.fileExists(atPath: s.path + "/marked.tar"))
    }
}

extension TerminalShellTests {
    /// Ctrl-C while the shell restores a folder (to a directory, then to an archive) stops the
    /// restore between entries: the shell says so and prompts again, an archive is not
    /// written, and the session is logged as cancelled.
    @Test func ctrlCStopsARestoreInTheShell() throws {
        guard let binary = builtSnapdex() else { return }
        let s = Scratch()
        let snap = s.path + "/snap"
        for d in 0..<30 { for i in 0..<200 { write(snap + "/d\(d)/f\(i).txt", "file \(d) \(i)\n") } }
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", snap, "--source", "tank", "--at", "2026-01-01", "--repo", repo]).status == 0)
        // The progress line (on a terminal, every 256 entries) says the restore is under way:
        // Ctrl-C comes then, not after a guessed pause.
        let steps: [(String, String, Double)] = [
            ("restore / --to \(s.path)/out\n", " entries", 0), ("\u{3}", "interrupted", 0), ("", "> ", 0),
            ("restore / --tar \(s.path)/out.tar\n", " entries", 0), ("\u{3}", "interrupted", 0), ("", "> ", 0),
            ("exit\n", "", 1.0),
        ]
        let t = try runInTerminal([binary, "browse", "tank@latest", "--repo", repo],
                                  environment: ["TERM": "xterm", "LANG": "C.UTF-8"], steps: steps)
        #expect(t.failed == nil, "\(t.failed ?? ""); screen:\n\(t.screen.suffix(3000).debugDescription)")
        #expect(t.status == 1, "the stopped restores count as failed commands; screen:\n\(t.screen.suffix(1500).debugDescription)")
        #expect(!t.screen.contains("restored 6000 files"), "a restore ran to the end; screen:\n\(t.screen.suffix(1500).debugDescription)")
        #expect(t.screen.contains("restore stopped"))
        let restored = FileManager.default.enumerator(atPath: s.path + "/out")?.allObjects.count ?? 0
        #expect(restored < 6030, "\(restored) entries restored")
        let left = try FileManager.default.contentsOfDirectory(atPath: s.path)
        #expect(!left.contains("out.tar"))
        #expect(!left.contains { $0.contains(".tmp") || $0.hasPrefix(".snapdex") }, "temporaries left: \(left)")
        let log = try runTool(binary, ["sessions", "--json", "--repo", repo])
        let restores = log.out.split(separator: "\n").filter { $0.contains("\"kind\":\"restore\"") }
        #expect(restores.count == 2 && restores.allSatisfy { $0.contains("\"result\":\"cancelled\"") }, "\(restores)")
    }
}

extension CLITests {
    /// What Tab inserts, exactly: the word before the cursor replaced by the name quoted as
    /// `ls` prints it, folders ending in `/` with no space, and choices when it is ambiguous.
    @Test func tabCompletionQuotesLikeLs() throws {
        let s = Scratch()
        let snap = s.path + "/snap"
        write(snap + "/bob/My Documents/a.txt", "a")
        write(snap + "/bob/it's", "q")
        write(snap + "/bob/café.txt", "c")
        write(snap + "/bob/notes one.txt", "1")
        write(snap + "/bob/notes two.txt", "2")
        let cli = CLI(repo: s.path + "/repo")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", snap, "--source", "home", "--at", "2026-01-01"]).status == 0)
        let repo = try Repository.open(at: s.path + "/repo")
        let shell = try BrowseShell(repository: repo, point: try repo.resolve("home@latest"))
        shell.cwd = Array("bob".utf8)
        func completion(_ line: String) -> String {
            switch shell.complete(line) {
            case .replace(let n, let text): return "-\(n) " + text
            case .choices(let c): return c.joined(separator: " | ")
            case .nothing: return "nothing"
            }
        }
        #expect(completion("cd My") == "-2 'My Documents'/")
        #expect(completion("cd 'My Doc") == "-7 'My Documents'/")
        #expect(completion("ls 'My Documents'/") == "-15 'My Documents/a.txt' ")
        #expect(completion("cat it") == "-2 'it'\\''s' ")
        #expect(completion("cat caf") == "-3 'café.txt' ")
        #expect(completion("cat no") == "-2 'notes '")
        #expect(completion("cat 'notes '") == "'notes one.txt' | 'notes two.txt'")
        #expect(completion("cat /bob/no") == "-7 '/bob/notes '")
        #expect(completion("cat nothing-like-it") == "nothing")
        #expect(completion("ma") == "-2 mark")
        #expect(completion("mark") == "mark | marked")
        #expect(completion("he") == "-2 help ")
        // What Tab inserted reads back as the name.
        #expect(try ShellWords.split("cat 'it'\\''s' $'caf\\351' \"a b\"") == ["cat", "it's", ShellBytes.string([0x63, 0x61, 0x66, 0xe9]), "a b"])
        #expect(ShellBytes.bytes(ShellBytes.string([0x63, 0x61, 0x66, 0xe9])) == [0x63, 0x61, 0x66, 0xe9])
    }
}
