import Base
import Testing

@Suite struct TimeTests {
    @Test func describeRoundsForPeople() {
        #expect(Time.describe(850 * Time.millisecond) == "850ms")
        #expect(Time.describe(12_500 * Time.millisecond) == "12.5s")
        #expect(Time.describe(2 * Time.second) == "2s")
        #expect(Time.describe(-3 * Time.microsecond) == "-3µs")
    }

    @Test func secondsHaveFixedDecimals() {
        #expect(Time.seconds(1_250_000_000, decimals: 2) == "1.25s")
        #expect(Time.seconds(1_009_999_999, decimals: 2) == "1.00s", "truncated, not rounded")
        #expect(Time.seconds(50 * Time.millisecond, decimals: 2) == "0.05s")
        #expect(Time.seconds(30_100 * Time.millisecond, decimals: 1) == "30.1s")
        #expect(Time.seconds(7 * Time.second, decimals: 0) == "7s")
        #expect(Time.seconds(-1_500 * Time.millisecond, decimals: 1) == "-1.5s")
    }

    @Test func parseAcceptsUnitsAndRefusesTheRest() {
        #expect(Time.parse("150ms") == 150 * Time.millisecond)
        #expect(Time.parse("1m") == 60 * Time.second)
        #expect(Time.parse("fast") == nil)
    }
}
