import Foundation

/// How often and how long a failed request is tried again: exponential backoff with full
/// jitter (each wait is random between 0 and base·2^attempt, capped), so that many clients
/// retrying after one outage spread out instead of hitting the server together.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first one included.
    public var maxAttempts: Int
    /// Upper bound of the first wait, in seconds.
    public var baseDelay: Double
    /// Upper bound of any one wait, in seconds.
    public var maxDelay: Double
    /// No new attempt starts once this many seconds have passed since the first.
    public var maxTotal: Double
    /// The longest one attempt may take (connect, send, receive), in seconds.
    public var attemptTimeout: Double

    public init(maxAttempts: Int, baseDelay: Double, maxDelay: Double, maxTotal: Double, attemptTimeout: Double) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotal = maxTotal
        self.attemptTimeout = attemptTimeout
    }

    /// Six attempts within two minutes: rides out a gateway restart or a burst of SlowDown.
    public static let standard = RetryPolicy(maxAttempts: 6, baseDelay: 0.2, maxDelay: 10, maxTotal: 120, attemptTimeout: 60)

    /// The wait before attempt `attempt + 1` (attempt counts from 1), drawn with full jitter.
    public func delay<R: RandomNumberGenerator>(after attempt: Int, using random: inout R) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(min(attempt - 1, 30))))
        return ceiling <= 0 ? 0 : Double.random(in: 0...ceiling, using: &random)
    }

    /// Whether another attempt may start `elapsed` seconds after the first, after `attempts`.
    public func allowsAnother(after attempts: Int, elapsed: Double) -> Bool {
        attempts < maxAttempts && elapsed < maxTotal
    }
}
