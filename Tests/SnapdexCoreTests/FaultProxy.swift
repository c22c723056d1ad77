import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import SnapdexCore

/// A small HTTP proxy on loopback between the S3 client and the real gateway that fails
/// requests on purpose: error statuses, delays, dropped and reset connections. Each request
/// takes the next fault from a queue (none left: it passes), unless a `rule` picks one for it by
/// its method and path. One request per connection: the proxy asks the gateway to close after
/// answering and tells the client the same, so every request's fate is the fault it drew.
///
/// Tests of real processes use the rest: the log of every request (method and path), and a
/// gate (`hold`/`release`) that keeps requests from going on, so a process can be caught (and
/// killed) at a chosen request.
final class FaultProxy: @unchecked Sendable {
    enum Fault: Sendable, Equatable {
        /// Answer this status with an S3 error body of `code`, without asking the gateway.
        case status(Int, code: String)
        /// Wait, then pass the request on (longer than the client's timeout: a timeout).
        case delay(Double)
        /// Read the request, then close the connection without a word.
        case drop
        /// Read the request, then reset the connection (RST).
        case reset
        /// Pass the request to the gateway (it takes effect), then drop the answer.
        case dropAnswer
    }

    let upstream: S3Endpoint
    private(set) var port: Int = 0
    private let listener: Int32
    private let lock = NSLock()
    private var faults: [Fault] = []
    private var seen = 0
    private var stopped = false
    private var log: [Seen] = []
    private let gate = NSCondition()
    private var held = false
    private var waiting = 0
    private var rule: (@Sendable (Seen) -> Fault?)?

    /// One request as the proxy received it: `PUT /bucket/prefix/blocks/ab/abcd...`.
    struct Seen: Sendable, Equatable {
        var method: String
        /// The path, without the query.
        var path: String
        var query: String

        func isPut(under keyPrefix: String) -> Bool { method == "PUT" && path.contains("/" + keyPrefix) }
    }

    init(upstream: S3Endpoint) throws {
        self.upstream = upstream
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 64) == 0 else { close(listener); throw ProxyError(why: "cannot listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    deinit { stop() }

    struct ProxyError: Error { var why: String }

    var endpoint: S3Endpoint { S3Endpoint(scheme: "http", host: "127.0.0.1", port: port) }

    /// Queues faults for the next requests, in order.
    func inject(_ more: [Fault]) { lock.lock(); faults += more; lock.unlock() }

    /// Requests received so far.
    var requests: Int { lock.lock(); defer { lock.unlock() }; return seen }

    /// Faults not drawn yet.
    var pending: Int { lock.lock(); defer { lock.unlock() }; return faults.count }

    /// Every request received so far, in order.
    var seenRequests: [Seen] { lock.lock(); defer { lock.unlock() }; return log }

    /// Picks the fault of each request before the queue does (nil: the queue decides). It runs
    /// on the proxy's threads, before the request is passed on.
    func setRule(_ rule: (@Sendable (Seen) -> Fault?)?) { lock.lock(); self.rule = rule; lock.unlock() }

    /// From now on, requests wait (the connection open, nothing forwarded) until `release`.
    func hold() { gate.lock(); held = true; gate.unlock() }

    func release() { gate.lock(); held = false; gate.broadcast(); gate.unlock() }

    /// Requests waiting at the gate now.
    var waitingAtGate: Int { gate.lock(); defer { gate.unlock() }; return waiting }

    /// Waits (up to `seconds`) until a request waits at the gate; false if none came.
    func awaitHeldRequest(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if waitingAtGate > 0 { return true }
            usleep(20_000)
        }
        return false
    }

    func stop() {
        release()
        lock.lock()
        let was = stopped
        stopped = true
        rule = nil
        lock.unlock()
        if !was { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    /// A loopback port nothing listens on (bound, then released).
    static func unusedPort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var address = loopback(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let t = Thread { [self] in serve(client) }
            t.start()
        }
    }

    private func nextFault(_ request: Seen) -> Fault? {
        lock.lock()
        seen += 1
        log.append(request)
        let rule = self.rule
        lock.unlock()
        if let f = rule?(request) { return f }
        lock.lock()
        defer { lock.unlock() }
        return faults.isEmpty ? nil : faults.removeFirst()
    }

    private func waitAtGate() {
        gate.lock()
        waiting += 1
        while held { gate.wait() }
        waiting -= 1
        gate.unlock()
    }

    /// The request line's method, path and query.
    static func seen(_ request: [UInt8]) -> Seen {
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let target = line.count > 1 ? String(line[1]) : ""
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return Seen(method: line.first.map(String.init) ?? "", path: String(parts.first ?? ""),
                    query: parts.count > 1 ? String(parts[1]) : "")
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let request = Self.readRequest(client) else { return }
        waitAtGate()
        switch nextFault(Self.seen(request)) {
        case .status(let status, let code)?:
            let body = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>injected by FaultProxy</Message></Error>".utf8)
            let head = "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            Self.writeAll(client, Array(head.utf8) + body)
        case .delay(let seconds)?:
            Thread.sleep(forTimeInterval: seconds)
            if let answer = forward(request) { Self.writeAll(client, answer) }
        case .drop?:
            return
        case .reset?:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .dropAnswer?:
            _ = forward(request)
        case nil:
            if let answer = forward(request) { Self.writeAll(client, answer) }
        }
    }

    /// Sends the request to the gateway with `Connection: close`; the whole answer, made to
    /// say `Connection: close` as well.
    private func forward(_ request: [UInt8]) -> [UInt8]? {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var address = Self.loopback(port: UInt16(upstream.port ?? 80))
        address.sin_addr.s_addr = inet_addr(upstream.host)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return nil }
        Self.writeAll(s, Self.withConnectionClose(request))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(s, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return Self.withConnectionClose(answer)
    }

    /// The message with its Connection header (if any) replaced by `Connection: close`.
    static func withConnectionClose(_ message: [UInt8]) -> [UInt8] {
        guard let end = headEnd(message) else { return message }
        let head = String(decoding: message[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.lowercased().hasPrefix("connection:") }
        lines.append("Connection: close")
        return Array((lines.joined(separator: "\r\n")).utf8) + message[end...]
    }

    /// Where the blank line ending the head starts (its "\r\n\r\n").
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    /// One request: the head, and as many body bytes as Content-Length says.
    static func readRequest(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var expected: Int?
        while true {
            if expected == nil, let end = headEnd(data) {
                let head = String(decoding: data[0..<end], as: UTF8.self).lowercased()
                let length = head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                expected = end + 4 + length
            }
            if let e = expected, data.count >= e { return data }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            data += buffer[0..<n]
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
