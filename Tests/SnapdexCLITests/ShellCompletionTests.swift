import Foundation
import Testing

/// zsh and fish complete sources, point references and catalog paths from the repository, as
/// bash does (PackagingTests.bashCompletesSourcesPointsAndPaths). Their completion functions
/// only run in an interactive shell (fish's `complete -C` cannot read the command line when
/// not interactive), so each shell runs under a pseudo-terminal and Tab is pressed for real.
@Suite struct ShellCompletionTests {
    /// Types LINE into SHELL under a pty after SETUP, presses Tab, and returns what the
    /// terminal showed.
    static let driver = #"""
        import os, pty, select, sys, time
        path, setup, line, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
        shell = os.path.basename(path)
        pid, fd = pty.fork()
        if pid == 0:
            os.environ['TERM'] = 'xterm'
            os.execv(path, [shell, '-f', '-i'] if shell == 'zsh' else [shell, '--no-config', '-i'])
        def read(until, limit):
            out, end = b'', time.time() + limit
            while time.time() < end and until not in out:
                if select.select([fd], [], [], 0.1)[0]:
                    try: out += os.read(fd, 65536)
                    except OSError: break
            return out
        read(b'\x07never', 1.5)
        os.write(fd, setup.encode() + b'; echo READY-$((1+1))\r' if shell == 'zsh' else setup.encode() + b'; echo READY-(math 1+1)\r')
        read(b'READY-2', 90)
        read(b'\x07never', 0.5)
        os.write(fd, line.encode() + b'\t')
        shown = read(expected, 90)  # a loaded machine can take long; a pass ends the wait at once
        shown += read(b'\x07never', 1)
        # The terminal shows the completed line redrawn with cursor moves, which a text search
        # cannot read; so the line is echoed as plain output: Ctrl-A, then `echo LINE-2: `.
        marker = b'echo LINE-$((1+1)): ' if shell == 'zsh' else b'echo LINE-(math 1+1): '
        os.write(fd, b'\x01' + marker + b'\r')
        shown = read(b'LINE-2: ', 90)
        shown += read(b'\n', 5)
        sys.stdout.write(shown.decode('utf-8', 'replace'))
        os.write(fd, b'\x03exit\r')
        """#

    @Test(arguments: ["zsh", "fish"])
    func completesSourcesPointsAndCatalogPaths(shell: String) throws {
        guard let binary = builtSnapdex() else { return }
        guard let shellPath = ["/bin/\(shell)", "/usr/bin/\(shell)"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("\(shell) is not installed; `make test` installs it")
            return
        }
        let s = Scratch()
        write(s.path + "/snap/docs/My Letter.txt", "l")
        write(s.path + "/snap/docs/notes.txt", "n")
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", s.path + "/snap", "--source", "home", "--at", "2026-01-01", "--repo", repo]).status == 0)
        let script = try runTool(binary, ["--generate-completion-script", shell]).out
        let bin = (binary as NSString).deletingLastPathComponent
        let setup: String
        if shell == "zsh" {
            try script.write(toFile: s.path + "/_snapdex", atomically: true, encoding: .utf8)
            setup = "PATH=\(bin):$PATH; fpath=(\(s.path) $fpath); autoload -U compinit; compinit -u"
        } else {
            try script.write(toFile: s.path + "/snapdex.fish", atomically: true, encoding: .utf8)
            setup = "set PATH \(bin) $PATH; source \(s.path)/snapdex.fish"
        }
        let cases = [("snapdex ls --repo \(repo) h", "home@latest"),
                     ("snapdex ls --repo \(repo) home@latest /docs/n", "/docs/notes.txt")]
        for (line, expected) in cases {
            let r = try runTool("/usr/bin/python3", ["-c", Self.driver, shellPath, setup, line, expected])
            // Only the last word is completed (the scratch path may hold its letters too).
            #expect(r.out.contains("LINE-2: " + line.dropLast(line.split(separator: " ").last!.count) + expected),
                    "\(shell): Tab after `\(line)` should give \(expected); the terminal showed: \(r.out.suffix(400))")
        }
    }
}
