import Foundation
import Testing

/// An error's retry advice is the user's own command line, every option kept (--repo, --at,
/// --hash, --label...), with the one option that changes; each is run as printed, by a shell.
@Suite struct RetryAdviceTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    /// Runs `line` with sh, snapdex first on PATH, in `dir`.
    func shell(_ line: String, in dir: String) throws -> (status: Int32, out: String) {
        let bin = (binary as NSString).deletingLastPathComponent
        return try runTool("/bin/sh", ["-c", "cd \(dir) && PATH=\(bin):$PATH TZ=UTC " + line])
    }

    func advice(_ text: String) throws -> String {
        try #require(text.split(separator: "`").dropFirst().first.map(String.init), "\(text)")
    }

    @Test func indexAdviceKeepsEveryOptionGiven() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("needs snapdex in .build/debug: run `swift build` first")
            return
        }
        let s = Scratch()
        let repo = s.path + "/my repo"
        try FileManager.default.createDirectory(atPath: s.path + "/empty", withIntermediateDirectories: true)
        _ = try shell("snapdex init -q --repo '\(repo)'", in: s.path)
        #expect(try shell("snapdex --repo '\(repo)' source add s -q", in: s.path).status == 0)
        // An empty folder: the advice adds --allow-empty and keeps --repo (before the command's
        // name), --at, --hash and a label with a space.
        let empty = try shell("snapdex --repo '\(repo)' index empty --source s --at 2026-10-25T02:30:00Z --hash --label 'before upgrade'", in: s.path)
        #expect(empty.status == 1, "\(empty.out)")
        let allow = try advice(empty.out)
        #expect(allow == "snapdex --repo '\(repo)' index empty --source s --at 2026-10-25T02:30:00Z --hash --label 'before upgrade' --allow-empty", "\(allow)")
        #expect(try shell(allow + " -q", in: s.path).status == 0)
        let points = try shell("snapdex points --json --repo '\(repo)'", in: s.path).out
        #expect(points.contains("\"time\":\"2026-10-25T02:30:00Z\"") && points.contains("before upgrade"), "\(points)")

        // --time-from name and a name without a time: the advice sets --time-from auto in
        // place of the one given, for one DIR and for a whole source.
        let snaps = s.path + "/snaps"
        write(snaps + "/nightly/f", "f")
        write(snaps + "/weekly/f", "f")
        #expect(try shell("snapdex source add t --snapshots \(snaps) -q --repo '\(repo)'", in: s.path).status == 0)
        let one = try shell("snapdex index snaps/nightly --source t --time-from name --label x --repo '\(repo)'", in: s.path)
        #expect(one.status == 1, "\(one.out)")
        let auto = try advice(one.out)
        #expect(auto == "snapdex index snaps/nightly --source t --label x --repo '\(repo)' --time-from auto", "\(auto)")
        #expect(try shell(auto + " -q", in: s.path).status == 0)
        let all = try shell("snapdex index --source t --time-from=name --hash --repo '\(repo)'", in: s.path)
        #expect(all.status == 1, "\(all.out)")
        let autoAll = try advice(all.out)
        #expect(autoAll == "snapdex index --source t --hash --repo '\(repo)' --time-from auto", "\(autoAll)")
        #expect(try shell(autoAll + " -q", in: s.path).status == 0)
        let labels = try shell("snapdex points --json --repo '\(repo)'", in: s.path).out
        #expect(labels.contains("snaps/weekly"), "\(labels)")
    }
}
