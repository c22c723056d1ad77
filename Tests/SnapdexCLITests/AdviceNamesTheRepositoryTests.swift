import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Advice printed by a command run on a repository named by `--repo` (or SNAPDEX_REPO) names
/// it with `--repo`, as an absolute path: it used to say `snapdex rescan`, which, run from
/// another folder or shell, acts on ~/.local/share/snapdex (or a relative --repo elsewhere).
/// Each advice is run exactly as printed, from another folder, with no SNAPDEX_REPO.
@Suite struct AdviceNamesTheRepositoryTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    /// Runs `line` with /bin/sh in `dir`, with the built snapdex first on PATH, HOME `home`
    /// (so the default repository is one of the test's) and nothing else from the environment.
    func shell(_ line: String, in dir: String, home: String, repo: String? = nil) throws -> (status: Int32, out: String) {
        let bin = (binary as NSString).deletingLastPathComponent
        var env = ["PATH=\(bin):/usr/bin:/bin", "HOME=\(home)", "TZ=UTC"]
        if let repo { env.append("SNAPDEX_REPO=\(repo)") }
        return try runTool("/usr/bin/env", ["-i"] + env + ["/bin/sh", "-c", "cd '\(dir)' && " + line])
    }

    /// The first command between backticks in `text` that starts with `snapdex`.
    func advice(_ text: String) throws -> String {
        let spans = text.split(separator: "`", omittingEmptySubsequences: false)
        return try #require(stride(from: 1, to: spans.count - 1, by: 2).map { String(spans[$0]) }.first { $0.hasPrefix("snapdex ") }, "\(text)")
    }

    func sample(_ s: Scratch) {
        for i in 0..<40 { write(s.path + "/snaps/2026-11-01/f\(i)", "\(i)") }
        try? FileManager.default.createDirectory(atPath: s.path + "/home", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: s.path + "/elsewhere", withIntermediateDirectories: true)
    }

    @Test func adviceAfterARelativeRepoNamesItAbsolutelyAndWorksFromElsewhere() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        sample(s)
        let home = s.path + "/home"
        #expect(try shell("snapdex --repo repo init -q && snapdex --repo repo source add s --snapshots snaps -q && snapdex --repo repo index --source s -q", in: s.path, home: home).status == 0)
        // A damaged database: the advice is rescan, on this repository.
        unlink(s.path + "/repo/snapdex.db-wal")
        unlink(s.path + "/repo/snapdex.db-shm")
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: s.path + "/repo/snapdex.db"))
        let r = try shell("snapdex points --repo repo", in: s.path, home: home)
        #expect(r.status == 3, "\(r.out)")
        let rescan = try advice(r.out)
        #expect(rescan == "snapdex --repo \(s.path.replacingOccurrences(of: "//", with: "/"))/repo rescan", "\(rescan)")
        let followed = try shell(rescan, in: s.path + "/elsewhere", home: home)
        #expect(followed.status == 0, "\(followed.out)")
        #expect(try shell("snapdex points --repo repo", in: s.path, home: home).out.contains("2026-11-01"))
        // Nothing was made where a bare `snapdex` would have acted.
        #expect(!FileManager.default.fileExists(atPath: home + "/.local/share/snapdex"))
        #expect(!FileManager.default.fileExists(atPath: s.path + "/elsewhere/repo"))
    }

    @Test func adviceUnderSnapdexRepoNamesItAndWorksWithoutIt() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        sample(s)
        let home = s.path + "/home", repo = s.path + "/repo"
        #expect(try shell("snapdex init -q && snapdex source add s --snapshots \(s.path)/snaps -q && snapdex index --source s -q", in: s.path, home: home, repo: repo).status == 0)
        let blocks = ((FileManager.default.enumerator(atPath: repo + "/blocks")?.allObjects as? [String]) ?? []).filter { $0.count == 67 }
        for b in blocks { unlink(repo + "/blocks/" + b) }
        // A reader's advice (stderr), then verify's (stderr), each followed as printed.
        let ls = try shell("snapdex ls s@latest /", in: s.path, home: home, repo: repo)
        #expect(ls.status == 3, "\(ls.out)")
        let verify = try advice(ls.out)
        #expect(verify == "snapdex --repo \(repo) verify", "\(verify)")
        let verified = try shell(verify, in: s.path + "/elsewhere", home: home)
        #expect(verified.status == 3 && verified.out.contains("missing"), "\(verified.out)")
        let repair = try advice(verified.out.split(separator: "\n").last.map(String.init) ?? "")
        #expect(repair == "snapdex --repo \(repo) verify --repair", "\(repair)")
        let repaired = try shell(repair, in: s.path + "/elsewhere", home: home)
        #expect(repaired.status == 0, "\(repaired.out)")
        // A command printed without backticks (policy show's) names it too.
        #expect(try shell("snapdex policy set s --keep-last 3 -q", in: s.path, home: home, repo: repo).status == 0)
        let show = try shell("snapdex policy show s", in: s.path, home: home, repo: repo).out
        #expect(!show.contains("policy set") || show.contains("snapdex --repo \(repo) policy set"), "\(show)")
    }

    /// The repository a bare `snapdex` acts on needs no --repo in its advice.
    @Test func adviceOnTheDefaultRepositoryStaysShort() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        sample(s)
        let home = s.path + "/home"
        #expect(try shell("snapdex init -q && snapdex source add s --snapshots \(s.path)/snaps -q && snapdex index --source s -q", in: s.path, home: home).status == 0)
        let r = try shell("snapdex ls s@latest /nosuch", in: s.path, home: home)
        #expect(r.status == 1, "\(r.out)")
        #expect(try advice(r.out).hasPrefix("snapdex ls "), "\(r.out)")
        // Named explicitly, it is the same repository: still short.
        let named = try shell("snapdex ls s@latest /nosuch --repo \(home)/.local/share/snapdex", in: s.path, home: home)
        #expect(try advice(named.out).hasPrefix("snapdex ls "), "\(named.out)")
    }
}
