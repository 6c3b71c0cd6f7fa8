import Base
import KubeControllers
import Testing

/// The token bucket and the rate-limited timed queue under the node-lifecycle controller.
@Suite struct NodeLifecycleTokenBucketTests {
    @Test func bucketStartsFullAndRefillsAtTheRate() {
        var bucket = TokenBucket(ratePerSecond: 0.1)
        let seconds: [Nanoseconds] = [0, 0, 10 * Time.second - 1, 10 * Time.second]
        let granted = seconds.map { bucket.tryAccept(now: $0) }
        #expect(granted == [true, false, false, true], "full at start, then one per 10 s and not a nanosecond early")
        #expect(bucket.nextTokenAt(now: 12 * Time.second) == 20 * Time.second)
        // Burst 1: a long idle stretch still yields one token, not many.
        let afterIdle = [bucket.tryAccept(now: 1000 * Time.second), bucket.tryAccept(now: 1000 * Time.second)]
        #expect(afterIdle == [true, false])
    }

    @Test func zeroRateNeverGrants() {
        var bucket = TokenBucket(ratePerSecond: 0)
        let granted = [bucket.tryAccept(now: 0), bucket.tryAccept(now: 1_000_000 * Time.second)]
        #expect(granted == [false, false])
        #expect(bucket.nextTokenAt(now: 0) == nil)
    }

    @Test func queueIsUniqueUntilRemoved() {
        var queue = RateLimitedTimedQueue(limiter: TokenBucket(ratePerSecond: 1000), capacity: 4)
        let added = [queue.add("n1", uid: "u1", now: 0), queue.add("n1", uid: "u1", now: 0)]
        #expect(added == [true, false])
        var processed: [String] = []
        queue.tryProcess(now: 0) { processed.append($0.value); return .processed }
        #expect(processed == ["n1"])
        let readded = queue.add("n1", uid: "u1", now: 1)
        #expect(!readded, "processed values stay in the set")
        let removed = queue.remove("n1")
        let addedAgain = queue.add("n1", uid: "u1", now: 2)
        #expect(removed && addedAgain)
    }

    @Test func aRetriedValueWaitsItsDelay() {
        var queue = RateLimitedTimedQueue(limiter: TokenBucket(ratePerSecond: 1000, burst: 10), capacity: 4)
        _ = queue.add("n1", uid: "u1", now: 0)
        var attempts = 0
        queue.tryProcess(now: 0) { _ in attempts += 1; return .retry(after: 50 * Time.millisecond) }
        #expect(attempts == 1)
        queue.tryProcess(now: 50 * Time.millisecond) { _ in attempts += 1; return .processed }
        #expect(attempts == 1, "due a nanosecond after the delay")
        queue.tryProcess(now: 50 * Time.millisecond + 1) { _ in attempts += 1; return .processed }
        #expect(attempts == 2)
        #expect(queue.count == 0)
    }

    @Test func swappingTheRateKeepsAnEmptyBucketEmpty() {
        var queue = RateLimitedTimedQueue(limiter: TokenBucket(ratePerSecond: 0.1), capacity: 4)
        _ = queue.add("n1", uid: "u1", now: 0)
        _ = queue.add("n2", uid: "u2", now: 0)
        var processed: [String] = []
        queue.tryProcess(now: 0) { processed.append($0.value); return .processed }
        #expect(processed == ["n1"])
        queue.swapRate(0.01, now: Time.second)
        queue.tryProcess(now: Time.second) { processed.append($0.value); return .processed }
        #expect(processed == ["n1"], "the swap is no free token")
        #expect(queue.nextAttemptAt(now: Time.second) == 101 * Time.second)
        queue.swapRate(0, now: 2 * Time.second)
        #expect(queue.nextAttemptAt(now: 2 * Time.second) == nil)
    }
}
