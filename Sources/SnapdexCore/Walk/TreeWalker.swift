#if canImport(Glibc)
import Glibc
#endif

/// Something the walk could not read; counted and stored with the session, never fatal.
public struct WalkWarning: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    /// Set when something of the snapshot could not be read, so the point lacks it.
    public var unreadable: UnreadablePath?
    public var description: String { unreadable?.description ?? "\(path): \(message)" }
    public init(path: String, message: String, unreadable: UnreadablePath? = nil) {
        self.path = path
        self.message = message
        self.unreadable = unreadable
    }
}

public struct WalkOptions: Sendable {
    /// Glob patterns (fnmatch); a pattern with a `/` matches the whole path from the root
    /// (`/alice/cache`), any other matches names.
    public var excludes: [String] = []
    /// Do not descend into directories on another device than the root.
    public var oneFileSystem = false
    public init(excludes: [String] = [], oneFileSystem: Bool = false) {
        self.excludes = excludes
        self.oneFileSystem = oneFileSystem
    }
}

/// Walks a snapshot directory with `openat`/`fdopendir`/`fstatat` relative to directory
/// descriptors and hands each directory's children to `visit` in catalog order: a directory's
/// subdirectories (in name order) before the directory itself, so that every directory's
/// recursive totals are known when its own entry is written.
///
/// It never follows symlinks and never leaves the tree. To work past PATH_MAX depth with a
/// bounded number of open descriptors, it keeps only the deepest `openLimit` directories open
/// and reopens an ancestor through `..`, checking its device and inode, when it climbs back.
public final class TreeWalker {
    public let options: WalkOptions
    public private(set) var warnings: [WalkWarning] = []
    public var openLimit = 64

    private struct Frame {
        var fd: Int32
        var path: [UInt8]
        var device: UInt64
        var inode: UInt64
        var entries: [FileEntry]
        /// Indices of child directories on another device (only with `oneFileSystem`).
        var mountPoints: Set<Int>
        var next = 0
    }

    public init(options: WalkOptions = WalkOptions()) { self.options = options }

    /// Walks `root`; `visit` receives each group together with an open descriptor of its directory.
    public func walk(root: String, visit: (inout DirectoryGroup, Int32) throws -> Void) throws {
        let rootFD: Int32
        switch FS.openDirectory(path: root) {
        case .success(let fd): rootFD = fd
        case .failure(let e) where e == .noEntry: throw SnapdexError.snapshotDirectoryMissing(root)
        case .failure(let e) where e == .notDirectory: throw SnapdexError.notADirectory(root)
        case .failure(let e): throw SnapdexError.io("cannot open", root, e)
        }
        let rootStat: stat
        switch FS.fstat(rootFD) {
        case .success(let st): rootStat = st
        case .failure(let e):
            FS.closeFD(rootFD)
            throw SnapdexError.io("cannot stat", root, e)
        }
        var rootEntry = entry(name: [], stat: rootStat)
        let rootDevice = UInt64(rootStat.st_dev)
        let (rootEntries, rootMounts) = readEntries(fd: rootFD, path: [], rootDevice: rootDevice)
        var stack = [Frame(fd: rootFD, path: [], device: rootDevice, inode: UInt64(rootStat.st_ino),
                           entries: rootEntries, mountPoints: rootMounts)]
        defer { for f in stack where f.fd >= 0 { FS.closeFD(f.fd) } }

        while true {
            let top = stack.count - 1
            var descended = false
            while stack[top].next < stack[top].entries.count {
                let i = stack[top].next
                stack[top].next += 1
                let child = stack[top].entries[i]
                guard child.type == .directory else { continue }
                if stack[top].mountPoints.contains(i) { continue }
                let childPath = PathBytes.join(stack[top].path, child.name)
                switch FS.openDirectory(child.name, in: stack[top].fd) {
                case .failure(let e):
                    warn(childPath, "cannot open directory: \(e)", unreadable: .directory, e)
                    continue
                case .success(let fd):
                    guard case .success(let st) = FS.fstat(fd), UInt64(st.st_ino) == child.inode else {
                        FS.closeFD(fd)
                        warn(childPath, "directory changed during the walk; skipped", unreadable: .directory, Errno(ESTALE))
                        continue
                    }
                    let (entries, mounts) = readEntries(fd: fd, path: childPath, rootDevice: rootDevice)
                    stack.append(Frame(fd: fd, path: childPath, device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
                                       entries: entries, mountPoints: mounts))
                    if stack.count > openLimit {
                        let k = stack.count - 1 - openLimit
                        if stack[k].fd >= 0 {
                            FS.closeFD(stack[k].fd)
                            stack[k].fd = -1
                        }
                    }
                    descended = true
                }
                break
            }
            if descended { continue }

            // Every subdirectory is done: the group is complete.
            var frame = stack.removeLast()
            var files: UInt64 = 0
            var bytes: UInt64 = 0
            // By index: a copy of each entry would retain and release its arrays.
            for i in frame.entries.indices {
                switch frame.entries[i].type {
                case .file:
                    files += 1
                    bytes += frame.entries[i].size
                case .directory:
                    files += frame.entries[i].treeFiles
                    bytes += frame.entries[i].treeBytes
                default: break
                }
            }
            if stack.isEmpty {
                rootEntry.children = UInt64(frame.entries.count)
                rootEntry.treeFiles = files
                rootEntry.treeBytes = bytes
                var group = DirectoryGroup(path: [], entries: [rootEntry] + frame.entries)
                try visit(&group, frame.fd)
                return
            }
            var group = DirectoryGroup(path: frame.path, entries: frame.entries)
            try visit(&group, frame.fd)
            let parent = stack.count - 1
            if stack[parent].fd < 0 {
                stack[parent].fd = try reopenParent(from: frame.fd, expect: stack[parent])
            }
            FS.closeFD(frame.fd)
            frame.fd = -1
            let idx = stack[parent].next - 1
            stack[parent].entries[idx].children = UInt64(frame.entries.count)
            stack[parent].entries[idx].treeFiles = files
            stack[parent].entries[idx].treeBytes = bytes
        }
    }

    private func reopenParent(from fd: Int32, expect: Frame) throws -> Int32 {
        switch FS.openDirectory([46, 46], in: fd) {
        case .success(let pfd):
            if case .success(let st) = FS.fstat(pfd), UInt64(st.st_ino) == expect.inode, UInt64(st.st_dev) == expect.device {
                return pfd
            }
            FS.closeFD(pfd)
            throw SnapdexError.io("directory moved during the walk", "/" + String(decoding: expect.path, as: UTF8.self), Errno(ESTALE))
        case .failure(let e):
            throw SnapdexError.io("cannot reopen", "/" + String(decoding: expect.path, as: UTF8.self), e)
        }
    }

    private func readEntries(fd: Int32, path: [UInt8], rootDevice: UInt64) -> ([FileEntry], Set<Int>) {
        var names: [[UInt8]]
        switch FS.listNames(in: fd) {
        case .success(let n): names = n
        case .failure(let e):
            warn(path, "cannot read directory: \(e)", unreadable: .directory, e)
            return ([], [])
        }
        // Names are sorted before their entries are made, so that the entries come out in
        // catalog order and are never moved (each move of an entry retains its arrays).
        names.sort { $0.lexicographicallyPrecedes($1) }
        var foreignInodes = Set<UInt64>()
        var entries: [FileEntry] = []
        entries.reserveCapacity(names.count)
        for name in names {
            if isExcluded(name: name, dir: path) { continue }
            switch FS.lstat(name, in: fd) {
            case .failure(let e):
                // An entry that vanished was not there to read; any other failure leaves it out.
                if e == .noEntry {
                    warn(PathBytes.join(path, name), "vanished during the walk")
                } else {
                    warn(PathBytes.join(path, name), "cannot stat: \(e)", unreadable: .entry, e)
                }
            case .success(let st):
                var e = entry(name: name, stat: st)
                if e.type == .symlink {
                    switch FS.readlink(name, in: fd, sizeHint: Int(st.st_size)) {
                    case .success(let t): e.target = t
                    case .failure(let err): warn(PathBytes.join(path, name), "cannot read link: \(err)", unreadable: .linkTarget, err)
                    }
                }
                if options.oneFileSystem, e.type == .directory, UInt64(st.st_dev) != rootDevice { foreignInodes.insert(e.inode) }
                entries.append(e)
            }
        }
        var mounts = Set<Int>()
        if !foreignInodes.isEmpty {
            for (i, e) in entries.enumerated() where e.type == .directory && foreignInodes.contains(e.inode) { mounts.insert(i) }
        }
        return (entries, mounts)
    }

    private func entry(name: [UInt8], stat st: stat) -> FileEntry {
        let mode = UInt32(st.st_mode)
        let type = EntryType(mode: mode) ?? .file
        var e = FileEntry(name: name, type: type, permissions: mode & 0o7777, uid: UInt32(st.st_uid), gid: UInt32(st.st_gid),
                          size: UInt64(st.st_size), mtime: st.fileMTime, ctime: st.fileCTime,
                          inode: UInt64(st.st_ino), nlink: UInt64(st.st_nlink))
        if type == .charDevice || type == .blockDevice { e.device = UInt64(st.st_rdev) }
        return e
    }

    private func isExcluded(name: [UInt8], dir: [UInt8]) -> Bool {
        guard !options.excludes.isEmpty else { return false }
        for pattern in options.excludes {
            let subject = pattern.contains("/") ? PathBytes.display(PathBytes.join(dir, name)) : name
            let matched = FS.withCName(subject) { s in fnmatch(pattern, s, pattern.contains("/") ? FNM_PATHNAME : 0) == 0 }
            if matched { return true }
        }
        return false
    }

    private func warn(_ path: [UInt8], _ message: String, unreadable what: UnreadablePath.What? = nil, _ errno: Errno = Errno(0)) {
        warnings.append(WalkWarning(path: "/" + String(decoding: path, as: UTF8.self), message: message,
                                    unreadable: what.map { UnreadablePath(path: path, what: $0, errno: errno) }))
    }
}
