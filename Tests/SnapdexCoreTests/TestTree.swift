import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed when the test ends, and helpers to build real trees in it.
final class TempDir {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "/snapdex-test-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }

    deinit {
        // Deep chains defeat rm -rf's path limits on some systems; rm handles them with openat here.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/rm")
        p.arguments = ["-rf", path]
        try? p.run()
        p.waitUntilExit()
    }

    func sub(_ name: String) -> String { path + "/" + name }

    func makeRepository() throws -> Repository { try Repository.create(at: sub("repo")) }
}

enum Tree {
    static func mkdir(_ path: String) {
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func write(_ path: String, _ text: String) {
        mkdir((path as NSString).deletingLastPathComponent)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Writes a file whose name is given as raw bytes, relative to `dir`.
    static func write(dir: String, name: [UInt8], _ text: String) {
        let fd = dir.withCString { open($0, O_RDONLY | O_DIRECTORY) }
        precondition(fd >= 0)
        defer { close(fd) }
        let f = (name + [0]).withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { openat(fd, $0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        precondition(f >= 0)
        _ = text.withCString { Glibc.write(f, $0, strlen($0)) }
        close(f)
    }

    /// A small home-directory-like tree with the awkward cases in it.
    static func awkward(at root: String) {
        write(root + "/alice/docs/report.txt", "quarterly report\n")
        write(root + "/alice/docs/budget 2026.xlsx", "budget")
        write(root + "/alice/-leading-dash", "dash")
        write(dir: root + "/alice", name: Array("new\nline".utf8), "newline")
        write(dir: root + "/alice", name: [0x62, 0x61, 0x64, 0xff, 0xfe], "not utf-8")
        write(root + "/alice/" + String(repeating: "n", count: 255), "long name")
        symlink("docs/report.txt", root + "/alice/link")
        symlink("/nonexistent/target", root + "/alice/dangling")
        link(root + "/alice/docs/report.txt", root + "/alice/hardlink")
        mkfifo(root + "/alice/fifo", 0o644)
        mkdir(root + "/empty/inner-empty")
        write(root + "/bob/.hidden", "hidden")
        chmod(root + "/bob/.hidden", 0o4750)
    }

    /// A directory with `count` files.
    static func wide(at dir: String, count: Int) {
        mkdir(dir)
        for i in 0..<count {
            let fd = open(dir + "/f\(i)", O_WRONLY | O_CREAT, 0o644)
            close(fd)
        }
    }

    /// A chain of nested directories whose full path is longer than PATH_MAX, built with
    /// openat so that no path string ever gets that long.
    static func deepChain(at dir: String, depth: Int) {
        mkdir(dir)
        var fd = open(dir, O_RDONLY | O_DIRECTORY)
        let name = String(repeating: "d", count: 40)
        for _ in 0..<depth {
            mkdirat(fd, name, 0o755)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        let f = openat(fd, "bottom.txt", O_WRONLY | O_CREAT, 0o644)
        close(f)
        close(fd)
    }
}

/// An independent walk of a tree with lstat, for comparing catalogs against.
enum ReferenceWalk {
    struct Item: Equatable {
        var path: [UInt8]
        var type: EntryType
        var mode: UInt32
        var uid: UInt32, gid: UInt32
        var size: UInt64
        var mtime: FileTime, ctime: FileTime
        var inode: UInt64, nlink: UInt64
        var target: [UInt8]
    }

    static func walk(_ root: String) -> [Item] {
        var out: [Item] = []
        let fd = open(root, O_RDONLY | O_DIRECTORY)
        visit(fd: fd, prefix: [], into: &out)
        close(fd)
        return out.sorted { $0.path.lexicographicallyPrecedes($1.path) }
    }

    private static func visit(fd: Int32, prefix: [UInt8], into out: inout [Item]) {
        let dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard let d = fdopendir(dup) else { return }
        var names: [[UInt8]] = []
        while let e = readdir(d) {
            let n = withUnsafePointer(to: &e.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
            }
            if n != [46] && n != [46, 46] { names.append(n) }
        }
        closedir(d)
        for n in names {
            var st = stat()
            let cn = (n + [0]).map { CChar(bitPattern: $0) }
            guard fstatat(fd, cn, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let path = prefix + [47] + n
            let mode = UInt32(st.st_mode)
            let type: EntryType
            switch mode & 0o170000 {
            case 0o040000: type = .directory
            case 0o120000: type = .symlink
            case 0o010000: type = .fifo
            case 0o140000: type = .socket
            case 0o020000: type = .charDevice
            case 0o060000: type = .blockDevice
            default: type = .file
            }
            var target: [UInt8] = []
            if type == .symlink {
                var buf = [CChar](repeating: 0, count: 4096)
                let k = readlinkat(fd, cn, &buf, 4096)
                target = buf[0..<max(k, 0)].map { UInt8(bitPattern: $0) }
            }
            out.append(Item(path: path, type: type, mode: mode & 0o7777, uid: st.st_uid, gid: st.st_gid, size: UInt64(st.st_size),
                            mtime: FileTime(st.st_mtim), ctime: FileTime(st.st_ctim),
                            inode: UInt64(st.st_ino), nlink: UInt64(st.st_nlink), target: target))
            if type == .directory {
                let child = openat(fd, cn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                if child >= 0 {
                    visit(fd: child, prefix: path, into: &out)
                    close(child)
                }
            }
        }
    }
}
