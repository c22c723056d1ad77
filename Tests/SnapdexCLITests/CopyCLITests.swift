import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `snapdex copy` as people run it: real processes on real folders, killed with SIGKILL,
/// waiting for a busy writer, and every reading command on the target.
@Suite struct CopyCLITests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    /// A repository with `points` points of a 6,000-file tree (several catalog chunks), each
    /// changing a few files, under source `home` (snapshots folder `snaps/`).
    func series(_ s: Scratch, points: Int) throws -> String {
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        let base = s.path + "/snaps/base"
        try FileManager.default.createDirectory(atPath: base + "/wide", withIntermediateDirectories: true)
        for i in 0..<6_000 { write(base + "/wide/f\(i)", "\(i)") }
        #expect(try runTool(binary, ["source", "add", "home", "--snapshots", s.path + "/snaps", "--repo", repo]).status == 0)
        for i in 0..<points {
            let snap = s.path + "/snaps/2026-01-\(String(format: "%02d", i + 1))"
            #expect(try runTool("/bin/cp", ["-al", base, snap]).status == 0)
            for k in 0..<5 {
                unlink(snap + "/wide/f\(i * 97 + k)")
                write(snap + "/wide/f\(i * 97 + k)", "changed in \(i)")
            }
            write(snap + "/notes/day.txt", "day \(i)\n")
        }
        try FileManager.default.removeItem(atPath: base)
        let r = try runTool(binary, ["index", "--source", "home", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        return repo
    }

    func json(_ out: String) throws -> [String: Any] {
        let line = try #require(out.split(separator: "\n").last { $0.hasPrefix("{") })
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    func files(under dir: String, suffix: String) -> [String] {
        ((FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(suffix) }
    }

    func blockFiles(_ dir: String) -> Set<String> {
        Set(((FileManager.default.enumerator(atPath: dir + "/blocks")?.allObjects as? [String]) ?? []).filter { $0.count == 67 })
    }

    @Test func aCopyKilledAtAnyInstantLosesNothingAndSendsNothingTwice() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s, points: 12)
        let target = s.path + "/offsite"
        let killer = KilledRestoreTests()
        // Killed while sending blocks, before any point is published. A copy can finish
        // before the poll sees it in the middle; then it is tried again on a fresh target.
        var caught: [String]? = nil, pid: pid_t = 0
        for _ in 0..<5 where caught == nil {
            try? FileManager.default.removeItem(atPath: target)
            (caught, pid) = try killer.killWhile(["copy", "--to", target, "--repo", repo]) {
                let n = blockFiles(target).count
                return n >= 4 && files(under: target + "/catalogs", suffix: ".manifest").isEmpty ? ["\(n)"] : []
            }
            killer.reap(pid)
        }
        if caught == nil { Issue.record("no copy was caught in the middle in 5 tries; the test proved nothing") }
        // Killed again after some points were published (when the poll catches it: else that
        // copy finished, and the next one has nothing left to list again for).
        var lastKilled = caught != nil
        if caught != nil {
            (caught, pid) = try killer.killWhile(["copy", "--to", target, "--repo", repo]) {
                let m = files(under: target + "/catalogs", suffix: ".manifest").count
                return m >= 2 && m < 12 ? ["\(m)"] : []
            }
            killer.reap(pid)
            lastKilled = caught != nil
        }
        // Readers of the target never see a point without its blocks.
        var r = try runTool(binary, ["verify", "--repo", target])
        #expect(r.status == 0, "\(r.out)")
        let present = blockFiles(target)
        r = try runTool(binary, ["copy", "--to", target, "--json", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        let o = try json(r.out)
        #expect(o["rescanned"] as? Bool == lastKilled)
        // Exactly the blocks the killed runs had not sent.
        let all = blockFiles(repo)
        #expect(o["blocks_sent"] as? Int == all.subtracting(present).count)
        #expect(blockFiles(target) == all)
        r = try runTool(binary, ["verify", "--repo", target])
        #expect(r.status == 0 && r.out.contains("verified 12 point(s)"), "\(r.out)")
        let here = try runTool(binary, ["points", "--json", "--repo", repo]).out
        let there = try runTool(binary, ["points", "--json", "--repo", target]).out
        func ids(_ text: String) -> [String] { text.split(separator: "\n").compactMap { l in l.range(of: "\"id\":\"").map { String(l[$0.upperBound...].prefix(32)) } } }
        #expect(ids(here).count == 12 && ids(here) == ids(there))
    }

    @Test func aCopyWaitsForTheSourceWriterAndSaysWhenItGivesUp() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s, points: 2)
        let target = s.path + "/offsite"
        // Another writer (an index publishing, say) holds the source repository's lock.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [repo + "/lock", "sleep", "3"]
        try holder.run()
        defer { holder.waitUntilExit() }
        usleep(300_000)
        var r = try runTool(binary, ["copy", "--to", target, "--repo", repo])
        #expect(r.status == 1 && r.out.contains("retry with --wait SECONDS"), "\(r.out)")
        #expect(!FileManager.default.fileExists(atPath: target + "/catalogs/home"))
        r = try runTool(binary, ["copy", "--to", target, "--wait", "30", "--json", "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        #expect(try json(r.out)["points_copied"] as? Int == 2)
    }

    @Test func everyReadingCommandWorksOnATarget() throws {
        guard builtSnapdex() != nil else { return }
        let s = Scratch()
        let repo = try series(s, points: 3)
        let target = s.path + "/offsite"
        var r = try runTool(binary, ["copy", "--to", target, "--dry-run", "--repo", repo])
        #expect(r.status == 0 && r.out.contains("would copy 3 point(s)"), "\(r.out)")
        #expect(!FileManager.default.fileExists(atPath: target))
        r = try runTool(binary, ["copy", "--to", target, "--repo", repo])
        #expect(r.status == 0 && r.out.contains("copied 3 point(s)"), "\(r.out)")
        func t(_ args: [String]) throws -> (status: Int32, out: String) { try runTool(binary, args + ["--repo", target]) }
        r = try t(["points"])
        #expect(r.status == 0 && r.out.split(separator: "\n").count == 4, "\(r.out)")
        r = try t(["ls", "home@latest", "/wide"])
        #expect(r.status == 0 && r.out.split(separator: "\n").count == 6_000)
        r = try t(["find", "day.txt"])
        #expect(r.status == 0 && r.out.split(separator: "\n").count == 4, "\(r.out)")
        r = try t(["versions", "home", "/notes/day.txt"])
        #expect(r.status == 0 && r.out.contains("2026-01-03"), "\(r.out)")
        let first = try #require(try t(["points", "--json"]).out.split(separator: "\n").first.flatMap { l in l.range(of: "\"id\":\"").map { String(l[$0.upperBound...].prefix(12)) } })
        r = try t(["diff", first, "home@latest"])
        #expect(r.status == 0 && r.out.contains("/notes/day.txt"), "\(r.out)")
        r = try t(["verify"])
        #expect(r.status == 0, "\(r.out)")
        r = try t(["cat", "home@latest", "/notes/day.txt"])
        #expect(r.status == 0 && r.out == "day 2\n", "\(r.out)")
        r = try t(["restore", "home@latest", "/notes", "--to", s.path + "/back"])
        #expect(r.status == 0, "\(r.out)")
        #expect(FileManager.default.contents(atPath: s.path + "/back/notes/day.txt") == Data("day 2\n".utf8))
        r = try t(["info", "home@latest", "/notes/day.txt"])
        #expect(r.status == 0 && r.out.contains("Copied: from repository") && r.out.contains("Policy: none (origin's: none)"), "\(r.out)")
        // Retention of the copies, set on the target, applied by copy --expire.
        r = try t(["policy", "set", "home", "--keep-last", "1", "--apply-to-existing"])
        #expect(r.status == 0, "\(r.out)")
        r = try runTool(binary, ["copy", "--to", target, "--expire", "--repo", repo])
        #expect(r.status == 0 && r.out.contains("expired 2 point(s) of home"), "\(r.out)")
        r = try t(["points"])
        #expect(r.out.split(separator: "\n").count == 2, "\(r.out)")
        // What the target's retention removed is not sent again; the expire raised its
        // generation, so the next copy with something new lists the target first.
        r = try runTool(binary, ["copy", "--to", target, "--json", "--repo", repo])
        #expect(try json(r.out)["points_copied"] as? Int == 0 && json(r.out)["points_older"] as? Int == 2, "\(r.out)")
        let snap = s.path + "/snaps/2026-01-09"
        #expect(try runTool("/bin/cp", ["-al", s.path + "/snaps/2026-01-03", snap]).status == 0)
        write(snap + "/notes/new.txt", "new")
        #expect(try runTool(binary, ["index", "--source", "home", "--repo", repo]).status == 0)
        r = try runTool(binary, ["copy", "--to", target, "--json", "-v", "--repo", repo])
        #expect(r.status == 0 && r.out.contains("listed the blocks of"), "\(r.out)")
        #expect(try json(r.out)["points_copied"] as? Int == 1)
        #expect(try t(["verify"]).status == 0)
        #expect(try t(["cat", "home@latest", "/notes/new.txt"]).out == "new")
        // Named, an older point is copied.
        r = try runTool(binary, ["copy", "--to", target, first, "--json", "--repo", repo])
        #expect(try json(r.out)["points_copied"] as? Int == 1, "\(r.out)")
    }
}
