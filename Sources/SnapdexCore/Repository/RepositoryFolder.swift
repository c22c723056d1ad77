#if canImport(Glibc)
import Glibc
#endif

/// The repository's own folders (`catalogs/SOURCE`, `blocks/XX`, `archive`) as writers that
/// delete files reach them: one component at a time from the repository's root, with
/// `openat(2)` and `O_DIRECTORY | O_NOFOLLOW`, and files removed with `unlinkat(2)` relative
/// to the folder found. A symbolic link (or anything else that is not a real folder) where
/// one of these folders belongs is damage, never followed: a link out of the repository
/// would make gc delete files that are not Snapdex's.
enum RepositoryFolder {
    /// The folders inside `root` that writers delete files in, checked before a writer
    /// starts: `catalogs`, `blocks`, `archive`, each `catalogs/SOURCE` and `blocks/XX`.
    /// Throws `folderNotReal` for the first that is not a real folder; a missing one is fine.
    static func check(root: String) throws {
        for top in ["catalogs", "blocks", "archive"] {
            guard let fd = try open(top, in: root) else { continue }
            defer { close(fd) }
            guard top != "archive", case .success(let names) = FS.listNames(in: fd) else { continue }
            for name in names {
                let text = PathString.string(name)
                // What a writer walks into: every two-letter name in blocks, and every name of
                // a source in catalogs (a file there hides that source's points, whose blocks
                // gc would then free).
                guard case .success(let st) = FS.lstat(name, in: fd), (st.st_mode & S_IFMT) != S_IFDIR else { continue }
                let walked = top == "catalogs" ? (try? SourceConfig.validate(name: text)) != nil : name.count == 2
                guard walked else { continue }
                if top == "blocks" && (st.st_mode & S_IFMT) != S_IFLNK {
                    throw SnapdexError.blockFolderNotReal(path: root + "/" + top + "/" + text, kind: kind(st))
                }
                throw SnapdexError.folderNotReal(path: root + "/" + top + "/" + text, kind: kind(st))
            }
        }
    }

    /// `verify --repair`: moves each file, FIFO, socket or device that stands where a
    /// `blocks/XX` folder belongs aside to `blocks/XX.damaged` (`-2`... when taken; no
    /// writer walks such a name), so the blocks it hid read as missing and are written again.
    /// A symbolic link stays refused by `check`: what it leads to is not the repository's.
    static func moveAsideBlockFolders(root: String) throws -> [(path: String, kind: String, aside: String)] {
        guard let fd = try open("blocks", in: root) else { return [] }
        defer { close(fd) }
        guard case .success(let names) = FS.listNames(in: fd) else { return [] }
        var moved: [(path: String, kind: String, aside: String)] = []
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) where name.count == 2 {
            guard case .success(let st) = FS.lstat(name, in: fd), ![S_IFDIR, S_IFLNK].contains(st.st_mode & S_IFMT) else { continue }
            let path = root + "/blocks/" + PathString.string(name)
            moved.append((path, kind(st), try Repository.moveAside(path)))
        }
        if !moved.isEmpty { try FileIO.syncDirectory(root + "/blocks") }
        return moved
    }

    /// What stands where a folder belongs, for messages.
    static func kind(_ st: stat) -> String {
        (st.st_mode & S_IFMT) == S_IFREG ? "a file" : ManifestFile.kind(st)
    }

    /// Opens the folder `relative` (names separated by `/`) inside `root` without following
    /// a symbolic link in any of its components. Nil when one is missing.
    static func open(_ relative: String, in root: String) throws -> Int32? {
        var fd: Int32
        switch FS.openDirectory(path: root) {
        case .success(let f): fd = f
        case .failure(let e) where e == .noEntry: return nil
        case .failure(let e): throw SnapdexError.io("cannot open", root, e)
        }
        var path = root
        for component in relative.split(separator: "/") {
            path += "/" + component
            let name = Array(component.utf8)
            let next = FS.openDirectory(name, in: fd)
            switch next {
            case .success(let f):
                close(fd)
                fd = f
            case .failure(let e):
                defer { close(fd) }
                if e == .noEntry { return nil }
                if case .success(let st) = FS.lstat(name, in: fd), (st.st_mode & S_IFMT) != S_IFDIR {
                    throw SnapdexError.folderNotReal(path: path, kind: kind(st))
                }
                throw SnapdexError.io("cannot open", path, e)
            }
        }
        return fd
    }

    /// The names in the folder `relative` inside `root` (none when it is missing).
    static func names(_ relative: String, in root: String) throws -> [String] {
        guard let fd = try open(relative, in: root) else { return [] }
        defer { close(fd) }
        guard case .success(let names) = FS.listNames(in: fd) else { return [] }
        return names.map { PathString.string($0) }.sorted()
    }

    /// Removes the files named `names` from the folder `relative` inside `root` with
    /// `unlinkat(2)` (a symbolic link among them goes itself, its target stays). Returns how
    /// many went; a missing folder or file is not an error.
    @discardableResult
    static func remove(_ names: [String], from relative: String, in root: String) throws -> Int {
        guard !names.isEmpty, let fd = try open(relative, in: root) else { return 0 }
        defer { close(fd) }
        var removed = 0
        for name in names where FS.withCName(Array(name.utf8), { unlinkat(fd, $0, 0) }) == 0 { removed += 1 }
        return removed
    }

    /// Removes the file at `path`, which lies inside `root`, as `remove(_:from:in:)` does.
    static func removeFile(_ path: String, in root: String) throws {
        guard path.hasPrefix(root + "/") else { return FileIO.remove(path) }
        let relative = path.dropFirst(root.count + 1)
        guard let slash = relative.lastIndex(of: "/") else {
            try remove([String(relative)], from: "", in: root)
            return
        }
        try remove([String(relative[relative.index(after: slash)...])], from: String(relative[..<slash]), in: root)
    }
}
