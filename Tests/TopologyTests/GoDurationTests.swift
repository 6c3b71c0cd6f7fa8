//! GoDurationTests: Go's duration syntax in, the shortest Go spelling out, and clear errors for
//! everything else.

import Testing
import Topology

@Suite struct GoDurationTests {
    func parsed(_ text: String) -> Int64? {
        if case .success(let duration) = GoDuration.parse(text) { return duration.nanoseconds }
        return nil
    }

    func problem(_ text: String) -> String? {
        if case .failure(let error) = GoDuration.parse(text) { return error.description }
        return nil
    }

    @Test func parsesGoSyntax() {
        let ms: Int64 = 1_000_000, s = 1_000 * ms
        #expect(parsed("100ms") == 100 * ms)
        #expect(parsed("1s") == s)
        #expect(parsed("1m30s") == 90 * s)
        #expect(parsed("40s") == 40 * s)
        #expect(parsed("5m") == 300 * s)
        #expect(parsed("1h2m3s") == 3723 * s)
        #expect(parsed("1.5h") == 5400 * s)
        #expect(parsed(".5s") == 500 * ms)
        #expect(parsed("2.s") == 2 * s)
        #expect(parsed("500us") == 500_000)
        #expect(parsed("500µs") == 500_000)
        #expect(parsed("7ns") == 7)
        #expect(parsed("0") == 0)
        #expect(parsed("+3s") == 3 * s)
        #expect(parsed("1.0000000001s") == s)
    }

    @Test func refusesEverythingElse() {
        #expect(problem("100")?.contains("has no unit after 100") == true)
        #expect(problem("1x")?.contains("unknown unit 'x'") == true)
        #expect(problem("1sec")?.contains("unknown unit 'sec'") == true)
        #expect(problem("-1s")?.contains("negative") == true)
        #expect(problem("")?.contains("empty") == true)
        #expect(problem("s")?.contains("is not a duration") == true)
        #expect(problem("1..5s")?.contains("is not a duration") == true)
        #expect(problem("1s2")?.contains("has no unit after 2") == true)
        #expect(problem("3000000h")?.contains("too long") == true)
        #expect(problem("100 ms")?.contains("unknown unit ' ms'") == true)
    }

    @Test func printsTheShortestGoSpelling() {
        let cases: [(Int64, String)] = [
            (0, "0s"), (7, "7ns"), (1_500, "1.5us"), (100_000_000, "100ms"), (1_050_000, "1.05ms"),
            (1_500_000_000, "1.5s"), (90_000_000_000, "1m30s"), (300_000_000_000, "5m"), (3_600_000_000_000, "1h"),
            (3_723_000_000_000, "1h2m3s"),
        ]
        for (nanoseconds, text) in cases {
            #expect(GoDuration(nanoseconds: nanoseconds).description == text)
            #expect(parsed(text) == nanoseconds, "\(text) reads back")
        }
    }

    @Test func wholeMilliseconds() {
        #expect(GoDuration.milliseconds(150).wholeMilliseconds == 150)
        #expect(GoDuration(nanoseconds: 1_500_000).wholeMilliseconds == nil)
    }

    @Test func decodingReportsThePosition() throws {
        struct Timeouts: Decodable { var wait: GoDuration }
        func decode(_ yaml: String) throws(DocumentError) -> Timeouts {
            try DocumentDecoder.decode(Timeouts.self, from: try YAMLSubset.parse(yaml, file: "d.yaml"), file: "d.yaml")
        }
        #expect(try decode("wait: 1m30s").wait == .seconds(90))
        expectFailure(failure { () throws(DocumentError) in try decode("\nwait: 100") }, at: 2, 7, "bad duration: '100' has no unit")
        expectFailure(failure { () throws(DocumentError) in try decode("wait: 1y") }, at: 1, 7, "unknown unit 'y'")
    }
}
