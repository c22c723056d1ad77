/// The tool's version and the catalog format versions it reads and writes.
public enum SnapdexVersion {
    public static let tool = "0.1.0"
}
