import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A restore killed with SIGKILL leaves its temporary file; the next restore into the same
/// target (or the next `--tar` to the same archive) removes it. Real processes, real kills.
@Suite struct KilledRestoreTests {
    let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path

    /// Every `.snapdex-*` name under `dir`, as paths relative to it.
    func temporaries(under dir: String) -> [String] {
        let all = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []
        return all.filter { ($0 as NSString).lastPathComponent.hasPrefix(".snapdex-") }.sorted()
    }

    /// Whether `pid` has ended (a zombie its parent has not reaped, or gone).
    func ended(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.contains(") Z ")
    }

    /// Starts snapdex, then stops it over and over until `caught` finds what it looks for while
    /// it is stopped, and kills it there with SIGKILL. Returns what was caught (nil when it
    /// finished first) and the pid, left unreaped (a zombie, as under a parent that never
    /// reaps) until `waitpid` is called on it.
    func killWhile(_ args: [String], _ caught: () -> [String]) throws -> (caught: [String]?, pid: pid_t) {
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, binary, &actions, nil, argv, environ) == 0)
        while !ended(pid) {
            usleep(3000)
            kill(pid, SIGSTOP)
            usleep(1000)
            let found = caught()
            if !found.isEmpty {
                kill(pid, SIGKILL)
                while !ended(pid) { usleep(1000) }
                return (found, pid)
            }
            kill(pid, SIGCONT)
        }
        return (nil, pid)
    }

    func reap(_ pid: pid_t) {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test func theNextRestoreRemovesTemporariesOfAKilledOne() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("needs snapdex in .build/debug: run `swift build` first")
            return
        }
        let s = Scratch()
        let snap = s.path + "/snap"
        // 40 folders of 10 files of 128 KiB: long enough to be caught in the middle.
        let block = Data((0..<(128 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        for d in 0..<40 {
            try FileManager.default.createDirectory(atPath: snap + "/dir\(d)", withIntermediateDirectories: true)
            for f in 0..<10 { try block.write(to: URL(fileURLWithPath: snap + "/dir\(d)/f\(f)")) }
        }
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", snap, "--source", "s", "--at", "2026-01-01", "--repo", repo]).status == 0)

        let target = s.path + "/t"
        var left: [String]?
        var killed: pid_t = 0
        for _ in 0..<5 where left == nil {
            try? FileManager.default.removeItem(atPath: target)
            (left, killed) = try killWhile(["restore", "s@latest", "/", "--to", target, "--repo", repo]) { temporaries(under: target) }
            if left == nil { reap(killed) }
        }
        defer { reap(killed) }
        guard let left else {
            Issue.record("no restore was caught with a temporary file")
            return
        }
        #expect(temporaries(under: target) == left)
        var r = try runTool(binary, ["restore", "s@latest", "/", "--to", target, "--repo", repo])
        #expect(r.status == 0)
        #expect(temporaries(under: target).isEmpty)
        #expect(FileManager.default.contents(atPath: target + "/dir39/f9") == block)

        // A folder where every file is skipped is still swept.
        write(target + "/" + left[0], "left by the killed restore")
        r = try runTool(binary, ["restore", "s@latest", "/", "--to", target, "--repo", repo])
        #expect(r.status == 0 && r.out.contains("0 files") && r.out.contains("400 skipped"))
        #expect(temporaries(under: target).isEmpty)

        // A killed `--tar FILE` leaves its temporary beside FILE; the next --tar removes it.
        let archive = s.path + "/b.tar"
        let beside = { temporaries(under: s.path).filter { !$0.contains("/") && $0.hasPrefix(".snapdex-tar-") } }
        let (tarLeft, tarKilled) = try killWhile(["restore", "s@latest", "/", "--tar", archive, "--repo", repo], beside)
        defer { reap(tarKilled) }
        #expect(tarLeft != nil && beside() == tarLeft)
        r = try runTool(binary, ["restore", "s@latest", "/", "--tar", archive, "--repo", repo])
        #expect(r.status == 0)
        #expect(beside().isEmpty && FileManager.default.fileExists(atPath: archive))
    }
}
