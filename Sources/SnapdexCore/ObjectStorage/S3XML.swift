import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One page of a ListObjectsV2 answer.
struct S3ListPage: Equatable {
    var objects: [ObjectInfo] = []
    var isTruncated = false
    var nextContinuationToken: String?
}

/// An S3 error body: `<Error><Code>NoSuchKey</Code><Message>...</Message></Error>`.
struct S3ErrorBody: Equatable {
    var code = ""
    var message = ""
}

/// The two XML documents Snapdex reads from S3, parsed with Foundation's XMLParser into the
/// leaf elements it needs (everything else is skipped, so servers may add elements).
enum S3XML {
    static func listPage(_ bytes: [UInt8]) throws -> S3ListPage {
        let events = try leaves(bytes)
        var page = S3ListPage()
        var current: ObjectInfo?
        for e in events {
            switch (e.parent, e.name) {
            case ("Contents", "Key"):
                if let c = current { page.objects.append(c) }
                current = ObjectInfo(key: e.text, size: 0)
            case ("Contents", "Size"):
                current?.size = Int64(e.text) ?? 0
            case ("Contents", "LastModified"):
                current?.modifiedSeconds = S3Time.iso8601Seconds(e.text)
            case ("Contents", "ETag"):
                current?.etag = e.text
            case ("ListBucketResult", "IsTruncated"):
                page.isTruncated = e.text == "true"
            case ("ListBucketResult", "NextContinuationToken"):
                page.nextContinuationToken = e.text
            default:
                break
            }
        }
        if let c = current { page.objects.append(c) }
        return page
    }

    static func errorBody(_ bytes: [UInt8]) -> S3ErrorBody? {
        guard !bytes.isEmpty, let events = try? leaves(bytes) else { return nil }
        var body = S3ErrorBody()
        for e in events where e.parent == "Error" {
            if e.name == "Code" { body.code = e.text }
            if e.name == "Message" { body.message = e.text }
        }
        return body.code.isEmpty ? nil : body
    }

    struct Leaf { var parent: String; var name: String; var text: String }

    /// Every element that holds text, with its parent's name; `Contents/Key` comes before the
    /// other leaves of its `Contents` in every server's output (S3, RGW, MinIO), which
    /// `listPage` relies on to start a new object.
    static func leaves(_ bytes: [UInt8]) throws -> [Leaf] {
        let collector = LeafCollector()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = collector
        guard parser.parse() else {
            throw XMLProblem(why: parser.parserError.map { "\($0.localizedDescription)" } ?? "unparsable XML")
        }
        return collector.leaves
    }

    struct XMLProblem: Error { var why: String }

    private final class LeafCollector: NSObject, XMLParserDelegate {
        var leaves: [Leaf] = []
        var stack: [String] = []
        var text = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            stack.append(name)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
            leaves.append(Leaf(parent: stack.last ?? "", name: name, text: text))
            text = ""
        }
    }
}

/// The two time formats S3 sends.
enum S3Time {
    /// `2026-12-07T13:38:08.000Z` (LIST) to seconds since the epoch.
    static func iso8601Seconds(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? { Int(String(decoding: u[from..<from + count], as: UTF8.self)) }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2),
              let h = number(11, 2), let mi = number(14, 2), let s = number(17, 2) else { return nil }
        return civilSeconds(y, mo, d, h, mi, s)
    }

    /// `Mon, 07 Dec 2026 13:38:08 GMT` (HEAD's Last-Modified) to seconds since the epoch.
    static func httpDateSeconds(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count >= 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let d = Int(parts[1]), let mo = months.firstIndex(of: String(parts[2])), let y = Int(parts[3]) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        return civilSeconds(y, mo + 1, d, hms[0], hms[1], hms[2])
    }

    /// Days from civil (Howard Hinnant's algorithm), in UTC.
    static func civilSeconds(_ y0: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + s)
    }
}
