import Foundation
import Testing
@testable import SnapdexCore

/// Retries against the real gateway behind FaultProxy: the faults are real failures on real
/// connections (error statuses, timeouts, dropped and reset connections).
@Suite(.enabled(if: TestGateway.isAvailable, TestGateway.skipReason))
struct FaultProxyTests {
    /// Four attempts, short waits: a test's retries take well under a second.
    static let quick = RetryPolicy(maxAttempts: 4, baseDelay: 0.02, maxDelay: 0.1, maxTotal: 20, attemptTimeout: 2)

    /// A store whose requests pass through a new proxy, in a bucket of its own.
    func proxied(retry: RetryPolicy = quick, function: String = #function) throws -> (S3ObjectStore, FaultProxy) {
        let direct = try TestGateway.freshStore(function: function)
        let proxy = try FaultProxy(upstream: direct.configuration.endpoint!)
        let store = S3ObjectStore(url: direct.url, configuration: try TestGateway.configuration(endpoint: proxy.endpoint, retry: retry))
        return (store, proxy)
    }

    @Test func errorStatusesAreRetriedUntilTheGatewayAnswers() throws {
        let (store, proxy) = try proxied()
        defer { proxy.stop() }
        proxy.inject([.status(503, code: "SlowDown"), .status(500, code: "InternalError"), .status(429, code: "TooManyRequests")])
        try store.put("blocks/aa/one", [1, 2, 3])
        #expect(proxy.requests == 4)
        #expect(store.requestCounts().put == 4, "every attempt is a request paid for")
        proxy.inject([.status(503, code: "SlowDown")])
        #expect(try store.get("blocks/aa/one") == [1, 2, 3])
        proxy.inject([.status(502, code: "BadGateway")])
        #expect(try store.list(prefix: "blocks/").map(\.key) == ["blocks/aa/one"])
        proxy.inject([.status(504, code: "GatewayTimeout")])
        #expect(try store.head("blocks/aa/one")?.size == 3)
        proxy.inject([.status(503, code: "SlowDown")])
        try store.delete("blocks/aa/one")
        #expect(try store.get("blocks/aa/one") == nil)
        #expect(proxy.pending == 0)
    }

    @Test func droppedAndResetConnectionsAndTimeoutsAreRetried() throws {
        let (store, proxy) = try proxied()
        defer { proxy.stop() }
        proxy.inject([.drop, .reset, .delay(3)])
        try store.put("catalogs/s/1.manifest", Array("manifest".utf8))
        #expect(proxy.requests == 4)
        proxy.inject([.reset, .drop])
        #expect(try store.get("catalogs/s/1.manifest") == Array("manifest".utf8))
    }

    @Test func aLostAnswerToPutIfAbsentIsStillAWin() throws {
        let (store, proxy) = try proxied()
        defer { proxy.stop() }
        // The gateway creates the object, the answer is lost, the retry meets 412.
        proxy.inject([.dropAnswer])
        #expect(try store.putIfAbsent("locks/exclusive", Array("owner 1".utf8)))
        // Someone else's object under the key stays someone else's.
        proxy.inject([.dropAnswer])
        #expect(try !store.putIfAbsent("locks/exclusive", Array("owner 2".utf8)))
        #expect(try store.get("locks/exclusive") == Array("owner 1".utf8))
    }

    @Test func aRequestThatNeverSucceedsGivesUpWithOneLine() throws {
        let (store, proxy) = try proxied()
        defer { proxy.stop() }
        proxy.inject(Array(repeating: .status(503, code: "SlowDown"), count: 4))
        do {
            try store.put("blocks/bb/two", [9])
            Issue.record("the put succeeded through four 503s")
        } catch let e as SnapdexError {
            guard case .objectStorage(.gaveUp(let op, let location, let last, let attempts, _)) = e else { Issue.record("\(e)"); return }
            #expect(op == "PUT" && location == store.location + "/blocks/bb/two" && last == "503 SlowDown" && attempts == 4)
            #expect(e.exitCode == 1)
            #expect(!e.description.contains("\n"))
            #expect(e.description.contains("rerun the command"))
        }
        #expect(proxy.requests == 4)
        // Nothing half-written: the key is absent, and the next request passes.
        #expect(try store.get("blocks/bb/two") == nil)
    }

    @Test func giveUpRespectsTheTotalTimeBound() throws {
        let policy = RetryPolicy(maxAttempts: 100, baseDelay: 0.05, maxDelay: 0.05, maxTotal: 0.5, attemptTimeout: 2)
        let (store, proxy) = try proxied(retry: policy)
        defer { proxy.stop() }
        proxy.inject(Array(repeating: .drop, count: 100))
        #expect(throws: SnapdexError.self) { _ = try store.get("config") }
        #expect(proxy.requests < 100, "the total bound stopped it before the attempts ran out")
        proxy.inject([])
    }

    @Test func clientErrorsAreNotRetried() throws {
        let (store, proxy) = try proxied()
        defer { proxy.stop() }
        proxy.inject([.status(403, code: "AccessDenied")])
        #expect(throws: SnapdexError.objectStorage(.accessDenied(operation: "write", location: store.location + "/x", accessKeyID: store.configuration.credentials.accessKeyID))) {
            try store.put("x", [1])
        }
        #expect(proxy.requests == 1)
    }
}
