import Foundation
import Testing

/// Repositories written by earlier Snapdex versions, committed under
/// Tests/SnapdexCoreTests/Golden/, read by today's binary: every command that reads a catalog
/// works on them as it did.
@Suite struct FormatHistoryTests {
    /// Written by Snapdex 0.2 (catalog format 2): two points of a small tree, the second with
    /// one file rewritten, stored as a content patch (chunk table form 1) of the first's block.
    @Test func aVersion2RepositoryWithPatchesReadsAndVerifies() throws {
        guard let snapdex = builtSnapdex() else { return }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("snapdex-v2-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let fixture = packageRoot.appendingPathComponent("Tests/SnapdexCoreTests/Golden/format-2-repository").path
        try FileManager.default.copyItem(atPath: fixture, toPath: tmp)
        func run(_ args: String...) throws -> (status: Int32, out: String) { try runTool(snapdex, args + ["--repo", tmp]) }

        let verify = try run("verify")
        #expect(verify.status == 0, "\(verify.out)")
        #expect(verify.out.contains("verified 2 point(s), 5 block(s): no damage found"))
        let diff = try run("diff", "home@2025-06-01T00:00:00Z", "home@2025-06-02T00:00:00Z")
        #expect(diff.status == 0)
        #expect(diff.out.contains("M /b/f7.txt  (size, mtime)") && diff.out.contains("0 added, 0 removed, 1 changed"), "\(diff.out)")
        let find = try run("find", "f7.txt", "--json")
        #expect(find.status == 0)
        #expect(find.out.components(separatedBy: "\"path\"").count - 1 == 6, "\(find.out)")
        #expect(find.out.contains("{\"path\":\"/b/f7.txt\",\"type\":\"file\",\"size\":17,"), "\(find.out)")
        let ls = try run("ls", "home@2025-06-02T00:00:00Z", "/b")
        #expect(ls.status == 0)
        #expect(ls.out.hasPrefix("'caf'$'\\351''.txt'\nf1.txt\n") && ls.out.contains("\nf7.txt\n"), "\(ls.out)")
    }
    /// Written by Snapdex 0.3 (catalog format 3): three points of a 363-entry tree, the second
    /// and third with files rewritten, removed and added, every part of both stored as a delta
    /// (chunk table form 2) of the first point's whole blocks. Today's binary reads them as the
    /// 0.3 binary did: the expected listings below are that binary's output.
    @Test func aVersion3RepositoryWithDeltasReadsAsItDid() throws {
        guard let snapdex = builtSnapdex() else { return }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("snapdex-v3-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let golden = packageRoot.appendingPathComponent("Tests/SnapdexCoreTests/Golden")
        try FileManager.default.copyItem(atPath: golden.appendingPathComponent("format-3-repository").path, toPath: tmp)
        func run(_ args: String...) throws -> (status: Int32, out: String) { try runTool(snapdex, args + ["--repo", tmp]) }
        func expected(_ name: String) throws -> String { try String(contentsOf: golden.appendingPathComponent(name), encoding: .utf8) }

        let verify = try run("verify")
        #expect(verify.status == 0, "\(verify.out)")
        #expect(verify.out.contains("verified 3 point(s), 9 block(s): no damage found"), "\(verify.out)")
        let diff = try run("diff", "home@2025-07-01T00:00:00Z", "home@2025-07-03T00:00:00Z")
        #expect(diff.status == 0)
        #expect(diff.out == """
            M /a/file-010.txt  (size, mtime)
            - /a/file-020.txt
            M /b/c/file-100.txt  (size, mtime)
            - /b/file-050.txt
            + /b/file-050b.txt
            1 added, 2 removed, 2 changed

            """, "\(diff.out)")
        let find = try run("find", "file-05*", "--json")
        #expect(find.status == 0)
        #expect(find.out == (try expected("format-3-find.jsonl")))
        let ls = try run("ls", "home@2025-07-02T00:00:00Z", "/b", "--json")
        #expect(ls.status == 0)
        #expect(ls.out == (try expected("format-3-ls-second.jsonl")))
    }
}
