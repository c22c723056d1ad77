/// What to do about a repository file that is not a regular file (`SnapdexError.notRegularFile`),
/// by which file it is. Every command given here is one a test runs as printed.
enum RepositoryFileRemedy {
    static func forIrregular(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let file = ShellWord.quoted(path), aside = ShellWord.quoted(path + ".damaged")
        switch name {
        case "config", "source.json":
            return "run `snapdex verify --repair`, which moves it aside to \(aside) and writes the file anew, then run the command again"
        case "generation":
            // Absent would mean 0, which a copy's archive index may have recorded; an empty
            // file matches no index and the next writer replaces it with the current time.
            return "put an empty file in its place, which matches no copy's index: `mv -- \(file) \(aside) && touch -- \(file)`, then run the command again"
        case _ where name.hasSuffix(".manifest"):
            return "replace it with a regular copy of the manifest (or move it out of the repository), then run the command again"
        default:
            return "move it aside with `mv -- \(file) \(aside)` (snapdex makes a new one), then run the command again"
        }
    }
}
