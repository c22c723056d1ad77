import Foundation

/// A fixed set of threads that run submitted jobs, with at most `limit` jobs waiting.
///
/// Dedicated threads rather than a dispatch queue: libdispatch on Linux sizes its pool by
/// the CPUs it sees idle, and with the walk busy on one core it often ran only one
/// compression at a time, leaving a core unused.
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var running = 0
    private var closed = false
    private let limit: Int

    init(threads: Int, limit: Int) {
        self.limit = limit
        for _ in 0..<threads {
            let t = Thread { [self] in loop() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Queues a job, waiting while `limit` jobs are already queued.
    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        while jobs.count >= limit { condition.wait() }
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every submitted job has finished.
    func waitIdle() {
        condition.lock()
        while !jobs.isEmpty || running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Lets the threads end once the queue is empty.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !closed { condition.wait() }
            if jobs.isEmpty && closed {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            running += 1
            condition.broadcast()
            condition.unlock()
            job()
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
