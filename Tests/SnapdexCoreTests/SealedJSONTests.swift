import Foundation
import Testing
@testable import SnapdexCore

/// The checksum of `config` and `source.json` (docs/FORMAT.md, "Checksums of JSON files").
struct SealedJSONTests {
    static let source = SourceConfig(name: "home", snapshots: "/srv/snaps", livePath: "/home", timeFrom: .name,
                                     policy: "keep-last=3 daily=7 zone=Europe/Berlin", include: ["20*"], exclude: ["*.tmp"])

    @Test func aSealedSourceConfigurationReadsBackAndEndsWithItsChecksum() throws {
        let bytes = try Self.source.fileBytes()
        #expect(try SourceConfig.decodeFile(bytes, name: "home") == Self.source)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"exclude\" : [\n"))
        let digest = Digest.of(Array(bytes[..<(bytes.count - 82)])).hex
        #expect(text.hasSuffix(",\n  \"checksum\" : \"\(digest)\"\n}\n"))
        #expect(text.contains("\"version\" : 3"))
    }

    @Test func aSealedConfigIsOneLine() throws {
        let bytes = RepositoryConfig.text(id: "0123456789abcdef0123456789abcdef", created: "2026-12-07T22:00:00Z")
        let head = "{\"format\": 1, \"created\": \"2026-12-07T22:00:00Z\", \"id\": \"0123456789abcdef0123456789abcdef\", "
        #expect(String(decoding: bytes, as: UTF8.self) == head + "\"checksum\": \"\(Digest.of(Array(head.utf8)).hex)\"}\n")
        #expect(try RepositoryConfig.decodeFile(bytes).id == "0123456789abcdef0123456789abcdef")
    }

    /// Every single flipped bit, anywhere in either file, is damage; and one in every few
    /// bytes (each of its 8 bits; all of them would take a minute) is put back exactly.
    @Test func everyFlippedBitIsFoundAndPutBack() throws {
        let files: [(bytes: [UInt8], read: ([UInt8]) throws -> Void)] = [
            (try Self.source.fileBytes(), { _ = try SourceConfig.decodeFile($0, name: "home") }),
            (RepositoryConfig.text(id: "0123456789abcdef0123456789abcdef"), { _ = try RepositoryConfig.decodeFile($0) }),
        ]
        for (intact, read) in files {
            var missed = [Int]()
            for i in 0..<intact.count {
                for bit in 0..<8 {
                    var b = intact
                    b[i] ^= 1 << UInt8(bit)
                    if (try? read(b)) != nil { missed.append(i) }
                    if i % 7 == 0 || i >= intact.count - 8 { #expect(SealedJSON.correctingOneBit(b) == intact, "byte \(i) bit \(bit)") }
                }
            }
            #expect(missed.isEmpty, "flips read as intact at bytes \(missed)")
        }
    }

    /// Files written before checksums: read as they are, unless they hold a member older
    /// writers never wrote, or (source.json) say version 3.
    @Test func olderFilesWithoutAChecksum() throws {
        let v2 = "{\n  \"name\" : \"gold\",\n  \"timeFrom\" : \"auto\",\n  \"version\" : 2\n}\n"
        #expect(try SourceConfig.decodeFile(Array(v2.utf8), name: "gold").name == "gold")
        #expect(throws: JSONFileDamage.self) { try SourceConfig.decodeFile(Array(v2.replacingOccurrences(of: ": 2", with: ": 3").utf8), name: "gold") }
        #expect(throws: JSONFileDamage.self) {
            try SourceConfig.decodeFile(Array(v2.replacingOccurrences(of: "\"version\"", with: "\"chucksum\" : \"x\", \"version\"").utf8), name: "gold")
        }
        #expect(throws: JSONFileDamage.self) { try SourceConfig.decodeFile(Array(v2.utf8), name: "home") }
        #expect(try RepositoryConfig.decodeFile(Array("{\"format\": 1, \"created\": \"2026-12-07T13:44:49Z\"}\n".utf8)).format == 1)
        #expect(throws: JSONFileDamage.self) { try RepositoryConfig.decodeFile(Array("{\"format\": 1, \"chacksum\": \"x\"}\n".utf8)) }
    }
}
