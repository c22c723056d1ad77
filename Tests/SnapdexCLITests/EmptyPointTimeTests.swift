import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// `SOURCE@` with nothing after the @ (a script's unset variable) names no point: every command
/// that takes a point refuses it, and `forget` never reads it as `SOURCE@latest`.
extension CLITests {
    @Test func anEmptyTimeAfterTheAtIsRefusedNeverReadAsLatest() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snaps/2026-11-01/f", "one")
        write(s.path + "/snaps/2026-11-02/f", "two")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        #expect(cli.run("index --source s").status == 0)
        let before = cli.run("points --json").out
        for args in [["forget", "s@"], ["forget", "s@", "--nearest"], ["forget", ""], ["ls", "s@", "/"], ["point", "keep", "s@", "--until", "never"],
                     ["restore", "s@", "/f", "--to", s.path + "/out"], ["cat", "s@", "/f"]] {
            let r = cli.run(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.out) \(r.err)")
            #expect(Self.oneLine(r), "\(args): \(r.err)")
        }
        let r = cli.run(["forget", "s@"])
        #expect(r.err.contains("s@latest"), "\(r.err)")
        #expect(cli.run("points --json").out == before)
        #expect(!FileManager.default.fileExists(atPath: s.path + "/out/f"))
        // The advice works as printed.
        #expect(cli.run(["ls", "s@latest", "/"]).out.contains("f"))
    }
}
