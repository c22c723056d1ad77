import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Review 9: one flipped bit in a killed writer's journal, or a manifest name that is not a
/// regular file, must stop every writer that would remove something, never lose a point.
extension CLITests {
    static func flip(_ path: String, at index: (Data) -> Int, bit: UInt8) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[index(bytes)] ^= bit
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// The journal a kill -9 of `index --replace` leaves between its journal and its manifest.
    @Test(arguments: ["checksummed", "older, without a checksum"])
    func aJournalWithAFlippedBitRemovesNoPoint(form: String) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let old = try Repository.open(at: repo).points().sorted { $0.time < $1.time }.last!
        let journal = Journal(adds: [.init(source: "home", id: "0123456789abcdef0123456789abcdef")],
                              removes: [.init(source: "home", id: old.id)])
        let text = form == "checksummed" ? journal.encode() : Array("add home 0123456789abcdef0123456789abcdef\nremove home \(old.id)\n".utf8)
        try Data(text).write(to: URL(fileURLWithPath: repo + "/journal"))
        try Self.flip(repo + "/journal", at: { _ in 0 }, bit: 2)  // "add" becomes "cdd"
        let blocks = Self.blockFiles(repo)

        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.out.contains("damaged journal"), "\(verify.out) \(verify.err)")
        for command in ["gc", "expire", "index --source home", "rescan"] {
            let r = cli.run(command)
            #expect(r.status == 3 && r.err.split(separator: "\n").count == 1 && r.err.contains("journal is damaged")
                    && r.err.contains("`snapdex --repo \(repo) verify --repair`"), "\(command): \(r.err)")
            #expect(FileManager.default.fileExists(atPath: repo + "/catalogs/home/\(old.id).manifest"), "\(command)")
            #expect(Self.blockFiles(repo) == blocks, "\(command)")
        }
        // Readers are unaffected.
        #expect(cli.run("points").out.contains(String(old.id.prefix(8))))
        #expect(cli.run("ls home@latest /").status == 0)

        // The advice, as printed: the files decide, the point stays.
        let repair = cli.run("verify --repair")
        #expect(repair.status == 0 && repair.out.contains("dropped the damaged journal"), "\(repair.out) \(repair.err)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/journal"))
        #expect(cli.run("points").out.contains(String(old.id.prefix(8))))
        #expect(cli.run("gc").status == 0 && cli.run("verify").status == 0)
    }

    /// A killed `policy set --keep-last 3 --apply-to-existing` whose value lost a bit.
    @Test func aJournalledPolicyWithAFlippedDigitIsNotApplied() throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = try Repository.open(at: repo).points()
        let journal = Journal(rewrites: points.map { .init(source: "home", id: $0.id) },
                              change: .policy([.init(name: "keep-last", value: 3)], zone: "UTC"), policySource: "home")
        let path = repo + "/journal"
        try Data(journal.encode()).write(to: URL(fileURLWithPath: path))
        try Self.flip(path, at: { Array($0).firstRange(of: Array("keep-last=3".utf8))!.upperBound - 1 }, bit: 2)  // 3 becomes 1
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).contains("keep-last=1"))
        let gc = cli.run("gc")
        #expect(gc.status == 3 && gc.err.contains("checksum does not match") && gc.err.contains("`snapdex --repo \(repo) verify --repair`"), "\(gc.err)")
        #expect(cli.run("policy show home").out.contains("keep-last=5"))
        #expect(cli.run("verify --repair").status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=5"))
        #expect(cli.run("points").out.split(separator: "\n").count >= points.count)

        // The same journal whole is rolled forward as before.
        try Data(journal.encode()).write(to: URL(fileURLWithPath: path))
        #expect(cli.run("gc").status == 0)
        #expect(cli.run("policy show home").out.contains("keep-last=3"))
    }

    /// A manifest name that is a symbolic link (or a FIFO, or a folder) is not a point, but
    /// the blocks it may reference are unknown: verify names it, and no writer deletes blocks.
    @Test(arguments: ["symbolic link", "FIFO", "folder"])
    func aManifestThatIsNotARegularFileStopsBlockDeletion(kind: String) throws {
        let s = Scratch()
        let cli = Self.cachedRepository(s)
        let repo = s.path + "/repo"
        let points = try Repository.open(at: repo).points().sorted { $0.time < $1.time }
        let path = repo + "/catalogs/home/\(points[0].id).manifest", kept = s.path + "/elsewhere.manifest"
        #expect(rename(path, kept) == 0)
        switch kind {
        case "symbolic link": #expect(symlink(kept, path) == 0)
        case "FIFO": #expect(mkfifo(path, 0o600) == 0)
        default: #expect(mkdir(path, 0o700) == 0)
        }
        let blocks = Self.blockFiles(repo)
        let verify = cli.run("verify")
        #expect(verify.status == 3 && verify.err.contains(path) && verify.err.contains("not a regular file"), "\(verify.out) \(verify.err)")
        for command in ["gc", "expire", "forget \(points[1].id.prefix(12))"] {
            let r = cli.run(command)
            #expect(r.status == 3 && r.err.split(separator: "\n").count == 1 && r.err.contains(path)
                    && r.err.contains("replace it with a regular copy of the manifest"), "\(command): \(r.err)")
            #expect(Self.blockFiles(repo) == blocks, "\(command)")
        }
        #expect(FileManager.default.fileExists(atPath: repo + "/catalogs/home/\(points[1].id).manifest"))
        // The advice, as printed: a regular copy in its place.
        unlink(path)
        rmdir(path)
        #expect(copyfile(kept, path))
        #expect(cli.run("verify").status == 0)
        #expect(cli.run("points").out.contains(String(points[0].id.prefix(8))))
    }

    private func copyfile(_ from: String, _ to: String) -> Bool {
        (try? FileManager.default.copyItem(atPath: from, toPath: to)) != nil
    }
}
