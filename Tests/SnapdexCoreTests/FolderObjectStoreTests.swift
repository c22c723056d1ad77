import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// FolderObjectStore on real folders: the layout of a local repository, atomic puts, modes,
/// and listing by prefix.
@Suite struct FolderObjectStoreTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        #expect(lstat(path, &st) == 0)
        return st.st_mode & 0o7777
    }

    @Test func putGetHeadDeleteOnRealFiles() throws {
        let tmp = TempDir()
        let store = FolderObjectStore(root: tmp.sub("store"))
        #expect(try store.get("config") == nil)
        #expect(try store.head("blocks/ab/abcd") == nil)
        try store.put("config", Array("{}\n".utf8))
        try store.put("blocks/ab/abcd", [1, 2, 3])
        try store.put("catalogs/home/source.json", Array("x".utf8))
        #expect(try store.get("config") == Array("{}\n".utf8))
        #expect(try store.get("blocks/ab/abcd") == [1, 2, 3])
        #expect(try store.head("blocks/ab/abcd")?.size == 3)
        // The layout of a local repository, with its modes.
        #expect(FileManager.default.fileExists(atPath: tmp.sub("store/blocks/ab/abcd")))
        #expect(mode(tmp.sub("store/blocks/ab/abcd")) == 0o400)
        #expect(mode(tmp.sub("store/config")) == 0o600)
        #expect(mode(tmp.sub("store/blocks/ab")) == 0o700)
        #expect(mode(tmp.sub("store")) == 0o700)
        // Replacing is whole; a block file of mode 0400 is replaced too.
        try store.put("config", Array("{\"a\": 1}\n".utf8))
        try store.put("blocks/ab/abcd", [4])
        #expect(try store.get("config") == Array("{\"a\": 1}\n".utf8))
        #expect(try store.get("blocks/ab/abcd") == [4])
        try store.delete("blocks/ab/abcd")
        try store.delete("blocks/ab/abcd")  // not there: not an error
        #expect(try store.get("blocks/ab/abcd") == nil)
        // No temporary is left behind.
        #expect(FileIO.names(in: tmp.sub("store")).sorted() == ["blocks", "catalogs", "config"])
        #expect(FileIO.names(in: tmp.sub("store/blocks/ab")).isEmpty)
        let c = store.requestCounts()
        #expect(c.put == 5 && c.delete == 2 && c.get >= 5 && c.head == 2)
        #expect(c.bytesSent == Int64(3 + 3 + 1 + 9 + 1))
    }

    @Test func putIfAbsentRefusesAnExistingKey() throws {
        let tmp = TempDir()
        let store = FolderObjectStore(root: tmp.path)
        #expect(try store.putIfAbsent("locks/one", Array("first".utf8)))
        #expect(try !store.putIfAbsent("locks/one", Array("second".utf8)))
        #expect(try store.get("locks/one") == Array("first".utf8))
        #expect(FileIO.names(in: tmp.sub("locks")) == ["one"])
    }

    /// Two hosts' index runs send the same block (sources whose trees share a names chunk)
    /// at once: each put writes its own temporary, so neither removes or renames the other's.
    @Test func concurrentPutsOfOneKeyAllSucceed() throws {
        let tmp = TempDir()
        let store = FolderObjectStore(root: tmp.path)
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var all: [String] = []
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<150 {
                do {
                    try store.put("blocks/ab/abcd", [UInt8(i & 0xff)])
                    try store.putIfAbsent("catalogs/home/\(i).manifest", [UInt8(worker)])
                } catch {
                    failures.lock.withLock { failures.all.append("\(error)") }
                }
            }
        }
        let failed = failures.all.count
        #expect(failed == 0, "\(failures.all.prefix(3))")
        #expect(FileIO.names(in: tmp.sub("blocks/ab")) == ["abcd"])
        #expect(FileIO.names(in: tmp.sub("catalogs/home")).count == 150)
    }

    @Test func listWalksByPrefixInKeyOrderAndSkipsTemporaries() throws {
        let tmp = TempDir()
        let store = FolderObjectStore(root: tmp.path)
        for k in ["blocks/aa/aa01", "blocks/ab/ab02", "blocks/aa/aa00", "catalogs/home/1.manifest", "catalogs/home/source.json",
                  "catalogs/work/2.manifest", "config"] {
            try store.put(k, Array(k.utf8))
        }
        Tree.write(tmp.sub("blocks/aa/aa02.tmp"), "half")  // a put a kill interrupted
        symlink("/etc", tmp.sub("blocks/zz"))  // never followed
        #expect(try store.list(prefix: "blocks/").map(\.key) == ["blocks/aa/aa00", "blocks/aa/aa01", "blocks/ab/ab02"])
        #expect(try store.list(prefix: "blocks/a").count == 3)
        #expect(try store.list(prefix: "blocks/ab").map(\.key) == ["blocks/ab/ab02"])
        #expect(try store.list(prefix: "catalogs/home/").map(\.key) == ["catalogs/home/1.manifest", "catalogs/home/source.json"])
        #expect(try store.list(prefix: "catalogs/").map(\.key).count == 3)
        #expect(try store.list(prefix: "nothing/").isEmpty)
        let all = try store.list(prefix: "")
        #expect(all.map(\.key) == all.map(\.key).sorted())
        #expect(all.count == 7)
        #expect(all.first { $0.key == "config" }?.size == 6)
    }

    @Test func keysThatCouldLeaveTheFolderAreRefused() throws {
        let tmp = TempDir()
        let store = FolderObjectStore(root: tmp.sub("store"))
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a", "blocks/aa/x.tmp"] {
            #expect(throws: SnapdexError.objectKeyInvalid(key: bad)) { try store.put(bad, [1]) }
            #expect(throws: SnapdexError.objectKeyInvalid(key: bad)) { _ = try store.get(bad) }
        }
        // A symlinked folder inside the store is not followed.
        Tree.mkdir(tmp.sub("outside"))
        Tree.mkdir(tmp.sub("store"))
        symlink(tmp.sub("outside"), tmp.sub("store/link"))
        #expect(throws: (any Error).self) { try store.put("link/x", [1]) }
        #expect(FileIO.names(in: tmp.sub("outside")).isEmpty)
    }

    @Test func aFolderWrittenThroughTheStoreIsALocalRepository() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        Tree.awkward(at: tmp.sub("snap"))
        var options = IndexOptions(source: "home", directory: tmp.sub("snap"))
        options.at = Timestamp(nanoseconds: 1_700_000_000_000_000_000)
        _ = try Indexer(repository: repo).run(options)
        // Every file of the repository but the database, copied object by object.
        let from = FolderObjectStore(root: repo.root)
        let to = FolderObjectStore(root: tmp.sub("copy"))
        for o in try from.list(prefix: "") where !o.key.hasPrefix("snapdex.db") && o.key != "lock" {
            try to.put(o.key, try #require(try from.get(o.key)))
        }
        let copy = try Repository.open(at: tmp.sub("copy"))
        #expect(try copy.points().map(\.id) == repo.points().map(\.id))
        #expect(try copy.verify().isClean)
    }
}
