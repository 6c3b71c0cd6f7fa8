//! KubeTimeTests: RFC 3339 formatting and parsing against known dates (the epoch, leap days,
//! before 1970), round trips over centuries, malformed timestamps, and HumanDuration against the
//! examples of Kubernetes' own tests (at whole seconds, as the API's timestamps are).

import Testing
import KubeAPI

@Suite struct KubeTimeTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00Z"), (1_735_689_600, "2025-01-01T00:00:00Z"), (1_709_210_096, "2024-02-29T12:34:56Z"),
        (-1, "1969-12-31T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z"), (4_107_542_399, "2100-02-28T23:59:59Z"),
        (-2_208_988_800, "1900-01-01T00:00:00Z"), (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] as [(Int64, String)])
    func formatsAndParsesKnownDates(seconds: Int64, text: String) {
        #expect(KubeTime.format(seconds) == text)
        #expect(KubeTime.parse(text) == seconds)
    }

    @Test func roundTripsAcrossCenturies() {
        var seconds: Int64 = -5_000_000_000
        while seconds < 10_000_000_000 {
            #expect(KubeTime.parse(KubeTime.format(seconds)) == seconds, "\(seconds)")
            seconds += 7_777_777
        }
    }

    @Test func parsesFractionsAndOffsets() {
        #expect(KubeTime.parse("2025-01-01T00:00:00.123456Z") == 1_735_689_600)
        #expect(KubeTime.parse("2025-01-01T02:00:00+02:00") == 1_735_689_600)
        #expect(KubeTime.parse("2024-12-31T19:30:00-04:30") == 1_735_689_600)
        #expect(KubeTime.parse("2025-01-01t00:00:00z") == 1_735_689_600)
    }

    @Test(arguments: [
        "", "garbage", "2025-01-01", "2025-01-01T00:00:00", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
        "2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z", "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00+0200",
        "2025-01-01 00:00:00Z", "2025-01-01T00:00:00Zjunk", "+025-01-01T00:00:00Z",
    ])
    func rejectsMalformedTimestamps(text: String) {
        #expect(KubeTime.parse(text) == nil)
    }
}

@Suite struct HumanDurationTests {
    static let second: Int64 = 1
    static let minute: Int64 = 60
    static let hour: Int64 = 3600
    static let day: Int64 = 24 * hour
    static let year: Int64 = 365 * day

    /// Kubernetes' examples, and its boundary cases rounded to whole seconds.
    @Test(arguments: [
        (second, "1s"), (70 * second, "70s"), (190 * second, "3m10s"), (70 * minute, "70m"), (47 * hour, "47h"),
        (49 * hour, "2d1h"), ((8 * 24 + 2) * hour, "8d"), (367 * day, "367d"), (2 * year + 25 * hour, "2y1d"),
        (8 * year + 2 * hour, "8y"),
        (-2 * second, "<invalid>"), (-1 * second, "0s"), (0, "0s"), (2 * minute - second, "119s"), (2 * minute, "2m"),
        (2 * minute + second, "2m1s"), (10 * minute - second, "9m59s"), (10 * minute, "10m"), (10 * minute + second, "10m"),
        (3 * hour - second, "179m"), (3 * hour, "3h"), (3 * hour + minute, "3h1m"), (8 * hour - second, "7h59m"), (8 * hour, "8h"),
        (8 * hour + 59 * minute, "8h"), (2 * day - second, "47h"), (2 * day, "2d"), (2 * day + hour, "2d1h"),
        (8 * day - second, "7d23h"), (8 * day, "8d"), (8 * day + 23 * hour, "8d"), (2 * year - second, "729d"), (2 * year, "2y"),
        (2 * year + 23 * hour, "2y"), (2 * year + day - second, "2y"), (2 * year + day, "2y1d"), (3 * year, "3y"),
        (7 * year, "7y"), (8 * year - second, "7y364d"), (8 * year, "8y"), (8 * year + 364 * day, "8y"), (9 * year, "9y"),
        // The shapes the Age column shows.
        (45 * second, "45s"), (200 * second, "3m20s"), (45 * minute, "45m"), (5 * hour + 10 * minute, "5h10m"), (3 * day, "3d"),
        (2 * year + 100 * day, "2y100d"),
    ] as [(Int64, String)])
    func matchesKubernetes(seconds: Int64, expected: String) {
        #expect(HumanDuration.format(seconds: seconds) == expected)
    }

    @Test func ageSinceATimestamp() {
        #expect(HumanDuration.since("2025-01-01T00:00:00Z", now: 1_735_689_600 + 200) == "3m20s")
        #expect(HumanDuration.since(nil, now: 0) == "<unknown>")
        #expect(HumanDuration.since("not a time", now: 0) == "<unknown>")
    }
}
