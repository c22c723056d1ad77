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
            Reads the file from the snapshot directory the point was indexed from, checked like \
            restore: size and mtime before the first byte, then the SHA-256 (when the point \
            recorded one) as it streams. A file whose hash differs has been written by the time \
            that is known: cat then says so on standard error and exits 1, so discard what it wrote.

            Examples:
              snapdex cat home@2026-11-19 /etc/hosts > hosts.old

            EXIT STATUS: 0 written and verified; 1 unknown point or path, the snapshot is gone, or its \
            file changed (size, mtime or SHA-256); 2 bad option, or the path is not a file.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point.", completion: .pointReference)
    var point: String
    @Argument(help: "The file's path within the snapshot.", completion: .catalogPath)
    var path: String
    @Flag(help: "Write it even if the snapshot's file no longer matches the catalog.")
    var noVerify = false

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let out = Output.current
        let rel = try PathArgument.parse(path)
        if let why = try repo.readSnapshotFile(point: p, path: rel, verify: !noVerify, { out.write(Array($0)) }) {
            out.flush()
            out.error("snapdex: warning: \(String(decoding: Format.quoted(PathBytes.display(rel)), as: UTF8.self)): differs from the catalog (\(why)); written as the snapshot holds it now (--no-verify)")
        }
    }
}
