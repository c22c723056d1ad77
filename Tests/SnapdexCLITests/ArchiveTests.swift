import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `restore --tar` archives, extracted by the tools people use: GNU tar and bsdtar (`make test`
/// installs both). Each must extract every entry with no warning, the same bytes, and a
/// sparse file with its holes.
@Suite struct ArchiveTests {
    /// Creates `name` (bytes) in `dir`, with `text`.
    func create(_ dir: String, _ name: [UInt8], _ text: String) {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(dfd) }
        let fd = (name + [0]).map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { openat(dfd, $0.baseAddress!, O_WRONLY | O_CREAT, 0o644) }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

    static let tools = ["/usr/bin/tar", "/usr/bin/bsdtar"]

    /// The built snapdex, when it and both tools are there; else nil, with an issue recorded.
    func snapdexAndTars(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let binary = packageRoot.appendingPathComponent(".build/debug/snapdex").path
        guard FileManager.default.isExecutableFile(atPath: binary), Self.tools.allSatisfy(FileManager.default.isExecutableFile) else {
            Issue.record("needs snapdex in .build/debug, GNU tar and bsdtar: run `make test`, which builds and installs them", sourceLocation: sourceLocation)
            return nil
        }
        return binary
    }

    @Test func gnuTarAndBsdtarExtractWithoutWarningsAndKeepHoles() throws {
        guard let binary = snapdexAndTars() else { return }
        let s = Scratch()
        let snap = s.path + "/snap"
        write(snap + "/d/plain.txt", "plain")
        // 10 MiB that use 4 KiB: one block of data in the middle; and a file that is all hole.
        let sparse = snap + "/d/sparse.bin"
        let fd = open(sparse, O_WRONLY | O_CREAT, 0o644)
        _ = ftruncate(fd, 10 << 20)
        _ = "hello, hole".withCString { pwrite(fd, $0, 11, 5_000_000) }
        close(fd)
        truncate(sparse, 10 << 20)
        let empty = open(snap + "/d/all-hole", O_WRONLY | O_CREAT, 0o644)
        _ = ftruncate(empty, 1 << 20)
        close(empty)
        // Names the ustar fields cannot hold, UTF-8 and not, short and long, and link targets.
        let long = String(repeating: "n", count: 120)
        create(snap + "/d", Array("café".utf8), "utf8")
        create(snap + "/d", [0x63, 0x61, 0x66, 0xe9], "latin1")
        create(snap + "/d", Array("bad".utf8) + [0xff] + Array(long.utf8), "long latin1")
        create(snap + "/d", Array("ok-\(long)".utf8), "long utf8")
        symlink(String(repeating: "t", count: 150), snap + "/d/long-link")
        let badTarget = Array("x".utf8) + [0xfe] + Array(long.utf8) + [0]
        badTarget.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { symlink($0.baseAddress!, snap + "/d/bad-link") } }
        var st = stat()
        stat(sparse, &st)
        guard st.st_blocks * 512 < 1 << 20 else { return }  // a file system without holes proves nothing

        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", snap, "--source", "s", "--at", "2026-01-01", "--hash", "--repo", repo]).status == 0)
        let archive = s.path + "/a.tar"
        let r = try runTool(binary, ["restore", "s@latest", "/", "--tar", archive, "--repo", repo])
        #expect(r.status == 0, "\(r.out)")
        var ast = stat()
        stat(archive, &ast)
        #expect(ast.st_size < 64 << 10, "the archive has \(ast.st_size) bytes: holes were written out")

        let names = try FileManager.default.contentsOfDirectory(atPath: snap + "/d")
        #expect(names.count == 9)
        for tool in Self.tools {
            let out = s.path + "/x-" + (tool as NSString).lastPathComponent
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let x = try runTool(tool, ["-xf", archive, "-C", out])
            #expect(x.status == 0 && x.out.isEmpty, "\(tool): \(x.out)")
            let listing = try runTool(tool, ["-tvf", archive])
            #expect(listing.status == 0 && !listing.out.contains("warning") && !listing.out.contains("Ignoring"), "\(tool): \(listing.out)")
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out + "/d")) == Set(names), "\(tool)")
            for name in names {
                var a = stat(), b = stat()
                lstat(snap + "/d/" + name, &a)
                lstat(out + "/d/" + name, &b)
                #expect(a.st_mode == b.st_mode && a.st_size == b.st_size, "\(tool): \(name)")
                if a.st_mode & S_IFMT == S_IFLNK {
                    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/d/" + name)
                        == (try FileManager.default.destinationOfSymbolicLink(atPath: snap + "/d/" + name)), "\(tool): \(name)")
                } else {
                    #expect(bytes(out + "/d/" + name) == bytes(snap + "/d/" + name), "\(tool): \(name)")
                }
            }
            var xs = stat()
            stat(out + "/d/sparse.bin", &xs)
            #expect(xs.st_size == 10 << 20 && xs.st_blocks * 512 < 1 << 20, "\(tool) wrote \(xs.st_blocks * 512) bytes of sparse.bin")
        }
    }

    /// What README and the restore man page say of archive times, checked against both tools:
    /// GNU tar extracts every time exactly but warns about each time before 1970; bsdtar 3.6.2
    /// misreads a time before 1970 that has a fraction of a second, and reads the rest exactly.
    @Test func archiveTimesBeforeNineteenSeventyAsTheDocsSay() throws {
        guard let binary = snapdexAndTars() else { return }
        let s = Scratch()
        let snap = s.path + "/snap"
        // name: (seconds, nanoseconds) since 1970, as the file system holds it
        let times: [String: (Int, Int)] = ["frac-1969": (-1, 123_456_789), "whole-1920": (-1_576_799_877, 0), "frac-1980": (316_656_123, 123_456_789)]
        for (name, t) in times {
            write(snap + "/" + name, name)
            var ts = [timespec(tv_sec: t.0, tv_nsec: t.1), timespec(tv_sec: t.0, tv_nsec: t.1)]
            #expect(utimensat(AT_FDCWD, snap + "/" + name, &ts, 0) == 0)
        }
        let repo = s.path + "/repo"
        #expect(try runTool(binary, ["init", "--repo", repo]).status == 0)
        #expect(try runTool(binary, ["index", snap, "--source", "s", "--at", "2026-01-01", "--repo", repo]).status == 0)
        let archive = s.path + "/a.tar"
        #expect(try runTool(binary, ["restore", "s@latest", "/", "--tar", archive, "--repo", repo]).status == 0)
        for tool in Self.tools {
            let out = s.path + "/x-" + (tool as NSString).lastPathComponent
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let x = try runTool(tool, ["-xf", archive, "-C", out])
            #expect(x.status == 0, "\(tool): \(x.out)")
            let gnu = tool == "/usr/bin/tar"
            for (name, t) in times {
                var st = stat()
                stat(out + "/" + name, &st)
                let got = (st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
                if gnu || name != "frac-1969" {
                    #expect(got == t, "\(tool): \(name)")
                } else {
                    #expect(got == (0, 876_543_211), "\(tool): \(name): bsdtar now reads it right; update README and restore's help")
                }
            }
            let warned = x.out.contains("implausibly old time stamp")
            #expect(warned == gnu, "\(tool): \(x.out)")
            if gnu { #expect(!x.out.contains("frac-1980"), "\(x.out)") }
        }
    }
}
