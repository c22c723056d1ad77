import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a file's bytes, as the point recorded it, to standard output.",
        discussion: """
            Reads the file from the snapshot directory the point was indexed from, after \
            checking it still matches the catalog (size, mtime).

            Examples:
              snapdex cat home@2026-11-19 /etc/hosts > hosts.old

            EXIT STATUS: 0 written; 1 unknown point or path, the snapshot is gone, or its file changed.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point.")
    var point: String
    @Argument(help: "The file's path within the snapshot.")
    var path: String
    @Flag(help: "Write it even if the snapshot's file no longer matches the catalog.")
    var noVerify = false

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let (fd, _) = try repo.openSnapshotFile(point: p, path: try PathArgument.parse(path), verify: !noVerify)
        defer { close(fd) }
        let out = Output.current
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            out.write(Array(buf[0..<n]))
        }
    }
}
