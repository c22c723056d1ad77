#if canImport(Glibc)
import Glibc
#endif

/// One snapshot found under a source's snapshots folder (or named to `index DIR`): the folder
/// to index, and what gives its point time.
public struct SnapshotFolder: Equatable, Sendable {
    /// How the tool that made the snapshot lays it out.
    public enum Layout: String, Sendable {
        /// The folder is the snapshot (ZFS, NetApp, Synology, QNAP, btrbk, LVM, rsnapshot).
        case plain
        /// snapper: `N/snapshot` is the snapshot, `N/info.xml` holds its `<date>` (UTC).
        case snapper
        /// Timeshift in rsync mode: `NAME/localhost` is the snapshot, NAME its local time.
        case timeshift
        /// Timeshift in btrfs mode: `NAME/@` is the root subvolume's snapshot.
        case timeshiftBtrfs
    }

    /// The folder to walk.
    public var root: String
    /// The snapshot's name under the snapshots folder: the name filters match and the time is
    /// read from (`autosnap_2026-11-21_03:00:01_daily`, snapper's `42`, Timeshift's date).
    public var name: String
    public var layout: Layout
    /// The time the tool recorded beside the snapshot (snapper's info.xml), when it has one.
    public var recorded: SnapshotName.Reading?
}

/// Finds which folder under a snapshots folder is each snapshot's root. Most tools make each
/// snapshot a folder of its own; snapper and Timeshift put it one level down, beside a file
/// of their own (info.xml, info.json) that must not be indexed as part of it.
public enum SnapshotLayout {
    /// Every snapshot under `folder`, in name order. Entries that are not directories are not
    /// snapshots, and symlinks are never followed: `ln -s /etc snaps/2026-11-21` or a
    /// `latest` link to another snapshot is not a snapshot (see `symlinks(in:)`).
    public static func snapshots(in folder: String) -> [SnapshotFolder] {
        names(in: folder).compactMap { name in
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard isDirectory(path), !isSymlink(path) else { return nil }
            if let inner = container(path, name: name) { return inner }
            // A snapper number whose subvolume is missing is being made or deleted by snapper.
            if isSnapperNumber(name), isFile(path + "/info.xml") { return nil }
            return SnapshotFolder(root: path, name: name, layout: .plain, recorded: nil)
        }
    }

    /// The symlinks directly under `folder`, in name order: skipped, never followed, by
    /// `snapshots(in:)`, and worth a warning since a user may have meant them as snapshots.
    public static func symlinks(in folder: String) -> [String] {
        names(in: folder).map { folder.hasSuffix("/") ? folder + $0 : folder + "/" + $0 }.filter(isSymlink)
    }

    /// Whether the directory at `path` has no entries: a snapshot that failed to mount (a ZFS
    /// automount, an unmounted NAS share) looks like this, and indexing it would make a point
    /// in which every file is deleted. An unreadable directory is not called empty.
    public static func isEmptyDirectory(_ path: String) -> Bool {
        guard case .success(let fd) = FS.openDirectory(path: path) else { return false }
        defer { FS.closeFD(fd) }
        guard case .success(let names) = FS.listNames(in: fd) else { return false }
        return names.isEmpty
    }

    /// The snapshot that `directory` (given to `index DIR`) is or holds: a snapper `N` or
    /// Timeshift `NAME` folder means the snapshot inside it; a snapper `N/snapshot` or Timeshift
    /// `NAME/localhost` takes its name and time from its parent.
    public static func snapshot(at directory: String) -> SnapshotFolder {
        let name = lastComponent(directory)
        if let inner = container(directory, name: name) { return inner }
        let parent = parentPath(directory)
        let parentName = lastComponent(parent)
        if name == "snapshot", isSnapperNumber(parentName), isFile(parent + "/info.xml") {
            return SnapshotFolder(root: directory, name: parentName, layout: .snapper, recorded: snapperDate(parent + "/info.xml"))
        }
        if name == "localhost" || name == "@", isFile(parent + "/info.json") {
            return SnapshotFolder(root: directory, name: parentName, layout: name == "@" ? .timeshiftBtrfs : .timeshift, recorded: nil)
        }
        return SnapshotFolder(root: directory, name: name, layout: .plain, recorded: nil)
    }

    /// The names tools give the folder that holds their snapshots.
    static let snapshotsFolderNames: Set<String> = ["snapshot", ".snapshot", ".snapshots", "snapshots", "#snapshot", "@Recently-Snapshot"]

    /// Whether `path` is a folder of snapshots rather than one snapshot: it has a snapshots
    /// folder's name (ZFS's .zfs/snapshot, NetApp's .snapshot, snapper's .snapshots, Timeshift's
    /// snapshots, Synology's #snapshot, QNAP's @Recently-Snapshot) and holds a snapshot
    /// whose name or layout says so. Indexing it as one snapshot would make one point of them all.
    public static func isSnapshotsFolder(_ path: String) -> Bool {
        guard snapshotsFolderNames.contains(lastComponent(path)) else { return false }
        return snapshots(in: path).contains { $0.layout != .plain || SnapshotName.read($0.name) != .none }
    }

    /// The snapshot inside a snapper or Timeshift snapshot folder, or nil for any other folder.
    private static func container(_ path: String, name: String) -> SnapshotFolder? {
        if isSnapperNumber(name), isDirectory(path + "/snapshot"), isFile(path + "/info.xml") {
            return SnapshotFolder(root: path + "/snapshot", name: name, layout: .snapper, recorded: snapperDate(path + "/info.xml"))
        }
        if isFile(path + "/info.json") {
            if isDirectory(path + "/localhost") {
                return SnapshotFolder(root: path + "/localhost", name: name, layout: .timeshift, recorded: nil)
            }
            if isDirectory(path + "/@") {
                return SnapshotFolder(root: path + "/@", name: name, layout: .timeshiftBtrfs, recorded: nil)
            }
        }
        return nil
    }

    /// snapper numbers its snapshots 1, 2, 3...: only such folders hold a snapper snapshot.
    private static func isSnapperNumber(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// The `<date>` of a snapper info.xml (`2026-11-21 03:00:01`, UTC); nil when the file has
    /// none, `impossible` when its date does not exist.
    static func snapperDate(_ path: String) -> SnapshotName.Reading? {
        guard let bytes = readSmallFile(path, limit: 64 << 10) else { return nil }
        guard let open = find(Array("<date>".utf8), in: bytes, from: 0),
              let close = find(Array("</date>".utf8), in: bytes, from: open + 6) else { return nil }
        let space: Set<UInt8> = [9, 10, 13, 32]
        let inner = bytes[(open + 6)..<close].drop(while: { space.contains($0) }).reversed().drop(while: { space.contains($0) }).reversed()
        let date = String(decoding: inner, as: UTF8.self)
        switch SnapshotName.read(date + "Z") {
        case .none: return .impossible("snapper's info.xml date '\(date)' is not a time")
        case let r: return r
        }
    }

    // MARK: System calls

    private static func names(in path: String) -> [String] {
        guard case .success(let fd) = FS.openDirectory(path: path) else { return [] }
        defer { FS.closeFD(fd) }
        guard case .success(let names) = FS.listNames(in: fd) else { return [] }
        return names.map { PathString.string($0) }.sorted()
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return PathCalls.stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return PathCalls.lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    private static func isFile(_ path: String) -> Bool {
        var st = stat()
        return PathCalls.stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    private static func readSmallFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = PathCalls.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: limit)
        var n = 0
        while n < limit {
            let r = buf.withUnsafeMutableBytes { b in syscall { read(fd, b.baseAddress! + n, limit - n) } }
            guard case .success(let k) = r, k > 0 else { break }
            n += k
        }
        return Array(buf[0..<n])
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard hay.count >= needle.count, start <= hay.count - needle.count else { return nil }
        return (start...(hay.count - needle.count)).first { hay[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    private static func lastComponent(_ path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? trimmed
    }

    private static func parentPath(_ path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { return "/" }
        parts.removeLast()
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}
