import Foundation
import Testing

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The debug snapdex binary that tests run as a real process, or nil after recording that it
/// is not built.
func builtSnapdex() -> String? {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        Issue.record("snapdex is not built in .build/debug; run `make test`")
        return nil
    }
    return binary
}

@discardableResult
func runTool(_ path: String, _ args: [String], stdin: String? = nil) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    if let stdin {
        let inPipe = Pipe()
        p.standardInput = inPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(stdin.utf8))
        try inPipe.fileHandleForWriting.close()
    } else {
        try p.run()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct PackagingTests {
    /// The checked-in pages in man/ must be what the generate-manual plugin makes from the
    /// command definitions now, post-processed by scripts/fix-man-pages.sh. `make test` builds the plugin's tool first; `make man`
    /// regenerates the pages.
    @Test func manPagesAreCurrent() throws {
        let build = packageRoot.appendingPathComponent(".build/debug")
        let tool = build.appendingPathComponent("generate-manual-tool").path
        let binary = build.appendingPathComponent("snapdex").path
        guard FileManager.default.isExecutableFile(atPath: tool), FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("the generate-manual tool or snapdex is not built in .build/debug; run `make test`, which builds both")
            return
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("snapdex-man-\(getpid())")
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try runTool(tool, [binary, "--multi-page", "--date", "2026-11-22", "--authors", "The Snapdex developers", "-o", out.path])
        #expect(r.status == 0, "\(r.out)")
        // The same post-processing `make man` applies.
        let fix = try runTool("/bin/sh", [packageRoot.appendingPathComponent("scripts/fix-man-pages.sh").path, out.path])
        #expect(fix.status == 0, "\(fix.out)")
        let man = packageRoot.appendingPathComponent("man")
        let generated = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        let checkedIn = try FileManager.default.contentsOfDirectory(atPath: man.path).filter { $0.hasSuffix(".1") }.sorted()
        #expect(generated == checkedIn, "man/ is stale: run `make man`")
        for name in generated {
            let a = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
            let b = try String(contentsOf: man.appendingPathComponent(name), encoding: .utf8)
            #expect(a == b, "man/\(name) is stale: run `make man`")
        }
        #expect(FileManager.default.fileExists(atPath: man.appendingPathComponent("snapdex-format.5").path))
        #expect(FileManager.default.fileExists(atPath: man.appendingPathComponent("snapdex-retention.7").path))
    }

    /// Every page renders with no warning from groff (warnings as errors: `-ww`) nor from
    /// `man -l`, is named the git/zfs way (snapdex-restore(1), never snapdex.restore), and has
    /// a description. `make test` installs man-db and groff-base when missing.
    @Test func manPagesRenderWithoutWarnings() throws {
        let man = packageRoot.appendingPathComponent("man")
        let pages = try FileManager.default.contentsOfDirectory(atPath: man.path).filter { $0.hasPrefix("snapdex") }.sorted()
        #expect(pages.count > 20)
        for name in pages {
            let path = man.appendingPathComponent(name).path
            #expect(!name.dropLast(2).contains("."), "\(name): pages are named snapdex-COMMAND.1")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains(".Xr snapdex."), "\(name) refers to a page by its old dotted name")
            let groff = try runTool("/usr/bin/groff", ["-mandoc", "-ww", "-z", path])
            #expect(groff.status == 0 && groff.out.isEmpty, "\(name): \(groff.out)")
            let rendered = try runTool("/usr/bin/env", ["MANWIDTH=80", "man", "--warnings", "-l", path])
            #expect(rendered.status == 0, "\(name): \(rendered.out)")
            #expect(!rendered.out.contains("warning:"), "\(name): \(rendered.out)")
            if name.hasSuffix(".1") {
                // The line after DESCRIPTION is prose, not straight into the option list.
                let lines = rendered.out.split(separator: "\n", omittingEmptySubsequences: false)
                let i = try #require(lines.firstIndex(of: "DESCRIPTION"), "\(name) has no DESCRIPTION")
                let first = lines[(i + 1)...].first { !$0.allSatisfy(\.isWhitespace) } ?? ""
                #expect(!first.trimmingCharacters(in: .whitespaces).hasPrefix("-") && !first.contains("Examples:"),
                        "\(name): DESCRIPTION starts with \(first)")
            }
        }
    }

    /// The bash completion, run as bash runs it, completes from the repository: sources,
    /// point references, catalog paths of the point on the line, and local paths for
    /// directory options.
    @Test func bashCompletesSourcesPointsAndPaths() throws {
        guard let binary = builtSnapdex() else { return }
        let s = Scratch()
        write(s.path + "/snap/docs/My Letter.txt", "l")
        write(s.path + "/snap/docs/notes.txt", "n")
        write(s.path + "/local/target-dir/x", "x")
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", s.path + "/snap", "--source", "home", "--at", "2026-01-01", "--repo", repo]).status == 0)
        let script = try runTool(binary, ["--generate-completion-script", "bash"])
        let file = s.path + "/snapdex.bash"
        try script.out.write(toFile: file, atomically: true, encoding: .utf8)
        let driver = """
            shopt -s extglob
            source '\(file)'
            PATH='\((binary as NSString).deletingLastPathComponent)':$PATH
            try() {
              COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$COMP_LINE"
              [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
              COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=()
              _snapdex snapdex "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
              printf '%s => ' "$1"; printf '[%s]' "${COMPREPLY[@]}"; echo
            }
            try "snapdex points --repo \(repo) --source h"
            try "snapdex ls --repo \(repo) h"
            try "snapdex ls --repo \(repo) home@latest /docs/n"
            try "snapdex restore --repo \(repo) home@latest /docs --to \(s.path)/local/tar"
            """
        let r = try runTool("/bin/bash", ["-c", driver])
        #expect(r.out.contains("--source h => [home]"), "\(r.out)")
        #expect(r.out.contains(" h => [home@latest]"), "\(r.out)")
        #expect(r.out.contains("/docs/n => [/docs/notes.txt]"), "\(r.out)")
        #expect(r.out.contains("local/tar => [\(s.path)/local/target-dir]"), "\(r.out)")
        // Measured, not asserted (times depend on the machine): one completion's process.
        let start = Date()
        let one = try runTool(binary, ["---completion", "ls", "--", "positional@1", "5", "6", "snapdex", "ls", "--repo", repo, "home@latest", "/docs/"])
        print("one dynamic completion took \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        #expect(one.out.contains("/docs/My Letter.txt"), "\(one.out)")
    }

    /// Each completion script parses in its shell (where the shell is installed) and names
    /// the subcommands.
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsLoad(shell: String) throws {
        guard let binary = builtSnapdex() else { return }
        let script = try runTool(binary, ["--generate-completion-script", shell])
        #expect(script.status == 0)
        for sub in ["index", "restore", "browse", "expire", "find"] { #expect(script.out.contains(sub)) }
        let shellPath = ["/bin/\(shell)", "/usr/bin/\(shell)"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let shellPath else { return }  // checked where the shell is installed (bash always is)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("snapdex-completion-\(getpid()).\(shell)")
        try script.out.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try runTool(shellPath, ["-n", file.path])
        #expect(check.status == 0, "\(check.out)")
    }
}

/// Unreadable directories are warnings, not failures. Root reads everything, so as root the
/// built binary is run as nobody (setpriv); otherwise as the current user.
@Test func unreadableDirectoriesAreWarningsNotFailures() throws {
    guard let binary = builtSnapdex() else { return }
    let s = Scratch()
    chmod(s.path, 0o777)
    write(s.path + "/snap/open/a", "a")
    write(s.path + "/snap/closed/b", "b")
    chmod(s.path + "/snap", 0o755)
    chmod(s.path + "/snap/open", 0o755)
    chmod(s.path + "/snap/open/a", 0o644)
    chmod(s.path + "/snap/closed", 0o000)
    defer { chmod(s.path + "/snap/closed", 0o755) }
    let prefix = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []
    guard prefix.isEmpty || FileManager.default.isExecutableFile(atPath: prefix[0]) else {
        Issue.record("running as root without setpriv: cannot drop privileges to make a directory unreadable")
        return
    }
    let repo = s.path + "/repo"
    let cmd = prefix + [binary]
    var r = try runTool(cmd[0], Array(cmd.dropFirst()) + ["init", "--repo", repo])
    #expect(r.status == 0, "\(r.out)")
    r = try runTool(cmd[0], Array(cmd.dropFirst()) + ["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01", "--repo", repo, "--json"])
    // The point is published, partial: exit 4, and the session says so.
    #expect(r.status == 4, "\(r.out)")
    #expect(r.out.contains("warning: /closed: directory could not be read (Permission denied)"))
    #expect(r.out.contains("\"warnings\":1"))
    #expect(r.out.contains("\"status\":\"partial\""))
    r = try runTool(cmd[0], Array(cmd.dropFirst()) + ["sessions", "--json", "--repo", repo])
    #expect(r.out.contains("/closed: directory could not be read"))
    #expect(r.out.contains("\"result\":\"partial\""))
}

/// A local time the zone skips (a daylight-saving gap) is refused, not moved by mktime; run
/// as a process because TZ is process-wide.
@Test func localTimesInADaylightSavingGapAreRefused() throws {
    guard let binary = builtSnapdex() else { return }
    guard FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/Europe/Berlin") else { return }  // no tzdata
    let s = Scratch()
    let repo = s.path + "/repo"
    let berlin = ["TZ=Europe/Berlin", binary]
    #expect(try runTool("/usr/bin/env", berlin + ["init", "--repo", repo]).status == 0)
    var r = try runTool("/usr/bin/env", berlin + ["find", "x", "--newer", "2026-03-29T02:30", "--repo", repo])
    #expect(r.status == 2 && r.out.contains("the local time zone skips it"), "\(r.out)")
    r = try runTool("/usr/bin/env", berlin + ["find", "x", "--newer", "2026-03-29T03:30", "--repo", repo])
    #expect(r.status == 0, "\(r.out)")
    // A file time in year 1 is one a catalog holds; a point time there is not.
    r = try runTool("/usr/bin/env", berlin + ["find", "x", "--newer", "0001-01-01", "--repo", repo])
    #expect(r.status == 0, "\(r.out)")
    r = try runTool("/usr/bin/env", berlin + ["expire", "--now", "0001-01-01", "--dry-run", "--repo", repo])
    #expect(r.status == 2 && r.out.contains("outside the times snapdex can store"), "\(r.out)")
}
