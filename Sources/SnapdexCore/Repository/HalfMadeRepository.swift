#if canImport(Glibc)
import Glibc
#endif

/// What `init` (or a `copy` to a new folder) leaves when it is killed before its config is
/// renamed into place, which it does last: empty `catalogs` and `blocks` folders, the
/// database, the lock, a `config.tmp`. Such a folder was never a repository and holds no
/// catalog, so it counts as no repository: `init` and `copy` finish it, and every other
/// command advises `init`.
enum HalfMadeRepository {
    /// The files `Repository.create` writes before the config.
    static let leftovers: Set<String> = [
        "catalogs", "blocks", "lock", "config.tmp", "snapdex.db", "snapdex.db-journal", "snapdex.db-wal", "snapdex.db-shm",
    ]

    /// Whether the folder `root` holds only what a killed `init` leaves. `catalogs` is made
    /// first, so without it the folder is someone else's (a lone `lock` is not init's).
    static func isHalfMade(_ root: String) -> Bool {
        let names = FileIO.names(in: root)
        guard names.contains("catalogs"), !FileIO.exists(root + "/config"), names.allSatisfy(leftovers.contains) else { return false }
        return ["catalogs", "blocks"].allSatisfy { folder in
            var st = stat()
            let path = root + "/" + folder
            guard PathCalls.lstat(path, &st) == 0 else { return true }
            return (st.st_mode & S_IFMT) == S_IFDIR && FileIO.names(in: path).isEmpty
        }
    }

    /// Removes the files a killed `init` left that `create` does not reuse as they are (the
    /// database may be half written); the empty folders stay.
    static func clear(_ root: String) {
        for name in leftovers where name != "catalogs" && name != "blocks" { FileIO.remove(root + "/" + name) }
    }
}
