import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Repository files that must be regular files and are not (a FIFO, a folder, a symbolic
/// link): no command blocks on one, each reports it as damage (exit 3, one line naming it and
/// what to do), no writer changes anything while it is there, and the advice works as printed.
/// Every run has a timeout, so a command that blocks again fails these tests, never stalls them.
@Suite struct IrregularFileTests {
    /// A repository with sources "s" (two points) and "t" (one point, blocks of its own).
    final class Fixture {
        let scratch = Scratch()
        var repo: String { scratch.path + "/repo" }
        lazy var tool = Snapdex(repo: repo, scratch: scratch.path)

        init() {
            let snaps = scratch.path + "/snaps", other = scratch.path + "/other"
            for (dir, file, text) in [(snaps + "/2026-01-01/a", "f", "x"), (snaps + "/2026-01-02/b", "g", "y"), (other + "/2026-01-01/zz", "q", "q")] {
                try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: dir + "/" + file, contents: Data(text.utf8))
            }
            tool.ok(["init"])
            tool.ok(["source", "add", "s", "--snapshots", snaps])
            tool.ok(["index", "--source", "s"])
            tool.ok(["source", "add", "t", "--snapshots", other])
            tool.ok(["index", "--source", "t"])
            tool.ok(["find", "f"])  // writes the names-filter cache
        }

        var blocks: [String] { RepoFiles.blocks(repo) }
        var manifests: [String] { RepoFiles.manifests(repo) }
        func path(_ relative: String) -> String { repo + "/" + relative }

        /// Puts `kind` ("fifo", "folder", "symlink") where `relative` is.
        func replace(_ relative: String, with kind: String) {
            let p = path(relative)
            unlink(p)
            switch kind {
            case "fifo": #expect(mkfifo(p, 0o600) == 0)
            case "folder": #expect(mkdir(p, 0o700) == 0)
            default:
                FileManager.default.createFile(atPath: scratch.path + "/elsewhere", contents: Data("5\n".utf8))
                #expect(symlink(scratch.path + "/elsewhere", p) == 0)
            }
        }
    }

    /// The one line of `r`'s stderr: exit 3 and no hang, naming `path` as not a regular file.
    static func expectDamage(_ r: ToolRun, naming path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = r.err.split(separator: "\n").filter { !$0.contains("warning:") }
        #expect(r.killedBySignal == nil, "`\(r.line)` blocked (killed after its timeout)", sourceLocation: sourceLocation)
        #expect(r.status == 3, "`\(r.line)` exit \(r.status): \(r.err)", sourceLocation: sourceLocation)
        #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains("not a regular file"), "\(r.err)", sourceLocation: sourceLocation)
    }

    /// The shell command between the backquotes of an error line, run as printed.
    static func runAdvice(_ err: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let parts = err.split(separator: "`")
        guard parts.count >= 3 else { Issue.record("no command in: \(err)", sourceLocation: sourceLocation); return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", String(parts[1])]
        do { try p.run() } catch { Issue.record("cannot run /bin/sh: \(error)", sourceLocation: sourceLocation); return }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "`\(parts[1])` failed", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["folder", "symlink", "fifo"])
    func generationThatIsNotAFileStopsEveryWriterBeforeItChangesAnything(kind: String) throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = Fixture()
        let t = try #require(fx.manifests.first { $0.contains("/catalogs/t/") })
        let blocks = fx.blocks, manifests = fx.manifests
        fx.replace("generation", with: kind)
        let point = String((t as NSString).lastPathComponent.prefix(12))
        for args in [["source", "remove", "t", "--purge"], ["gc"], ["expire", "--now", "2030-01-01"], ["forget", point]] {
            let r = fx.tool.run(args, timeout: 20)
            Self.expectDamage(r, naming: fx.path("generation"))
            #expect(fx.blocks == blocks && fx.manifests == manifests, "`\(r.line)` changed the repository")
            #expect(!FileManager.default.fileExists(atPath: fx.path("journal")))
        }
        // A copy to a repository whose generation is not a file cannot trust its archive index
        // (one with nothing to send takes no lock there and reads neither: --rescan always does).
        let source = Fixture(), target = Fixture()
        target.replace("generation", with: kind)
        Self.expectDamage(source.tool.run(["copy", "--to", target.repo, "--rescan"], timeout: 20), naming: target.path("generation"))
        // verify names it; its advice, run as printed, lets the writers work again.
        let verify = fx.tool.run(["verify"], timeout: 20)
        #expect(verify.status == 3 && verify.text.contains("not a regular file: " + fx.path("generation")), "\(verify.text) \(verify.err)")
        let r = fx.tool.run(["source", "remove", "t", "--purge"], timeout: 20)
        Self.runAdvice(r.err)
        fx.tool.ok(["source", "remove", "t", "--purge"])
        #expect(fx.blocks.count < blocks.count)
        let generation = try String(contentsOfFile: fx.path("generation"), encoding: .utf8)
        // Raised from "matches nothing": a number no archive index can have recorded.
        #expect((UInt64(generation.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 1_000_000_000_000_000_000, "\(generation)")
        fx.tool.ok(["verify"])
    }

    /// An empty generation, or one holding garbage, matches no archive index: the next raise
    /// replaces it with the current time in nanoseconds, and the writer goes on.
    @Test(arguments: ["", "garbage\n", "12x\n"])
    func generationThatIsNoNumberIsReplacedByTheNextRaise(text: String) throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = Fixture()
        let blocks = fx.blocks.count
        FileManager.default.createFile(atPath: fx.path("generation"), contents: Data(text.utf8))
        fx.tool.ok(["source", "remove", "t", "--purge"])
        #expect(fx.blocks.count < blocks)
        let generation = try String(contentsOfFile: fx.path("generation"), encoding: .utf8)
        #expect((UInt64(generation.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 1_000_000_000_000_000_000, "\(generation)")
    }

    /// Each kind of repository file a command opens, as a FIFO: the command that opens it
    /// reports it (before the fix, each of these blocked forever opening it), and the advice it
    /// prints, run as printed, lets the command run.
    @Test(arguments: [
        ("sessions.jsonl", ["sessions"]),
        ("journal", ["gc"]),
        ("lock", ["gc"]),
        ("generation", ["gc"]),
        ("names-filters", ["find", "f"]),
        ("snapdex.db", ["points"]),
        ("config", ["points"]),
        ("catalogs/s/source.json", ["index", "--source", "s"]),
    ])
    func fifoInPlaceOfARepositoryFileIsDamageNotAHang(file: String, args: [String]) throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = Fixture()
        fx.replace(file, with: "fifo")
        let r = fx.tool.run(args, timeout: 20)
        Self.expectDamage(r, naming: fx.path(file))
        guard r.err.contains("`mv -- ") else { return }  // config, source.json: put a copy back
        Self.runAdvice(r.err)
        let again = fx.tool.run(args, timeout: 20)
        #expect(again.status == 0, "`\(again.line)` after the advice: \(again.err)")
    }

    /// A block or a manifest that is a FIFO is damage of that block or manifest (verify names
    /// it), and an archive index that is one stops the copy: none blocks.
    @Test func fifoInPlaceOfABlockAManifestOrAnArchiveIndex() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = Fixture()
        let block = try #require(fx.blocks.first)
        fx.replace(String(block.dropFirst(fx.repo.count + 1)), with: "fifo")
        let verify = fx.tool.run(["verify"], timeout: 20)
        #expect(verify.killedBySignal == nil && verify.status == 3 && verify.text.contains("a FIFO, not a regular file"), "\(verify.text) \(verify.err)")

        let other = Fixture()
        let manifest = try #require(other.manifests.first)
        other.replace(String(manifest.dropFirst(other.repo.count + 1)), with: "fifo")
        Self.expectDamage(other.tool.run(["gc"], timeout: 20), naming: manifest)

        let copier = Fixture()
        let target = Scratch()
        copier.tool.ok(["copy", "--to", target.path + "/copy"])
        let index = try #require(RepoFiles.list(copier.path("archive")).first)
        copier.replace("archive/" + index, with: "fifo")
        Self.expectDamage(copier.tool.run(["copy", "--to", target.path + "/copy", "--rescan"], timeout: 20), naming: copier.path("archive/" + index))
    }
}
