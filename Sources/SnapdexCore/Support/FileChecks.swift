/// File checks the command-line layer needs without touching the repository internals.
public enum FileIOPublic {
    public static func isDirectory(_ path: String) -> Bool { FileIO.isDirectory(path) }
    public static func exists(_ path: String) -> Bool { FileIO.exists(path) }
}
