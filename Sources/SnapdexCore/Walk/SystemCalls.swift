#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the *at() system calls the walker and restorer use. Each retries EINTR
/// and reports failure as `Errno`; all paths are names relative to a directory descriptor.
public enum FS {
    /// `openat(2)` of a directory, never following a symlink in the last component.
    public static func openDirectory(_ name: [UInt8], in dirFD: Int32) -> Result<Int32, Errno> {
        withCName(name) { cname in
            syscall { openat(dirFD, cname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
    }

    /// `open(2)` of a directory by absolute or relative path (the walk's starting point).
    public static func openDirectory(path: String) -> Result<Int32, Errno> {
        syscall { PathCalls.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// `openat(2)` of a regular file for reading, never following a symlink.
    public static func openFile(_ name: [UInt8], in dirFD: Int32) -> Result<Int32, Errno> {
        withCName(name) { cname in
            syscall { openat(dirFD, cname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        }
    }

    /// `fstatat(2)` with `AT_SYMLINK_NOFOLLOW`.
    public static func lstat(_ name: [UInt8], in dirFD: Int32) -> Result<stat, Errno> {
        var st = stat()
        let r = withCName(name) { cname in syscall { fstatat(dirFD, cname, &st, AT_SYMLINK_NOFOLLOW) } }
        return r.map { _ in st }
    }

    /// `fstat(2)`.
    public static func fstat(_ fd: Int32) -> Result<stat, Errno> {
        var st = stat()
        return syscall { Glibc.fstat(fd, &st) }.map { _ in st }
    }

    /// `readlinkat(2)`: the symlink's target bytes.
    public static func readlink(_ name: [UInt8], in dirFD: Int32, sizeHint: Int) -> Result<[UInt8], Errno> {
        var capacity = max(sizeHint + 1, 64)
        while true {
            var buf = [UInt8](repeating: 0, count: capacity)
            let r = withCName(name) { cname in
                buf.withUnsafeMutableBufferPointer { b in
                    syscall { readlinkat(dirFD, cname, UnsafeMutableRawPointer(b.baseAddress!).assumingMemoryBound(to: CChar.self), capacity) }
                }
            }
            switch r {
            case .failure(let e): return .failure(e)
            case .success(let n) where n < capacity: return .success(Array(buf[0..<n]))
            case .success: capacity *= 2
            }
        }
    }

    /// Every name in a directory except `.` and `..`, via `fdopendir(3)` on a duplicate of `dirFD`.
    public static func listNames(in dirFD: Int32) -> Result<[[UInt8]], Errno> {
        let dupFD: Int32
        switch syscall({ fcntl(dirFD, F_DUPFD_CLOEXEC, 0) }) {
        case .failure(let e): return .failure(e)
        case .success(let fd): dupFD = fd
        }
        guard let dir = fdopendir(dupFD) else {
            let e = Errno.current
            close(dupFD)
            return .failure(e)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { return .failure(Errno.current) }
                break
            }
            let name: [UInt8] = withUnsafePointer(to: &ent.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: 256) { c in
                    Array(UnsafeBufferPointer(start: c, count: strlen(UnsafeRawPointer(c).assumingMemoryBound(to: CChar.self))))
                }
            }
            if name.count <= 2, name.allSatisfy({ $0 == 46 }) { continue }  // . and ..
            names.append(name)
        }
        return .success(names)
    }

    public static func closeFD(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Calls `body` with `name` as a NUL-terminated C string.
    @inline(__always)
    public static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        // On the stack, not a copy of the array: the walk calls this for every entry.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: name.count + 1) { z in
            name.withUnsafeBufferPointer { n in
                if let from = n.baseAddress { UnsafeMutableRawPointer(z.baseAddress!).copyMemory(from: from, byteCount: n.count) }
            }
            z[name.count] = 0
            return body(UnsafePointer(z.baseAddress!))
        }
    }
}

extension stat {
    /// mtime and ctime exactly as the file system holds them.
    var fileMTime: FileTime { FileTime(st_mtim) }
    var fileCTime: FileTime { FileTime(st_ctim) }
}
