//! JSONTests: the Wire JSON reader and writer round-trip, escape, keep integers exact, and
//! report errors with line and column.

import Testing
import Wire

@Suite struct JSONTests {
    @Test func roundTripKeepsMemberOrder() throws {
        let text = #"{"z":1,"a":[true,false,null,"s",-2.5],"m":{"k":"v"},"e":[],"o":{}}"#
        let value = try JSON.parse(text)
        #expect(JSON.serialize(value) == text)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["z", "a", "m", "e", "o"])
        let built: JSONValue = .object(["b": .integer(1), "a": .string("x")])
        #expect(JSON.serialize(built) == #"{"b":1,"a":"x"}"#)
    }

    @Test func whitespaceIsAllowedAroundTokens() throws {
        let value = try JSON.parse(" {\n\t\"a\" : [ 1 , 2 ] \r\n} ")
        #expect(value["a"] == .array([.integer(1), .integer(2)]))
    }

    @Test func escapesRoundTrip() throws {
        let parsed = try JSON.parse(#""line\nquote\" back\\ slash\/ tab\t \u00e9 \ud83d\ude00 \u0001""#)
        #expect(parsed == .string("line\nquote\" back\\ slash/ tab\t é 😀 \u{01}"))
        let serialized = JSON.serialize(parsed)
        #expect(serialized == #""line\nquote\" back\\ slash/ tab\t é 😀 \u0001""#)
        #expect(try JSON.parse(serialized) == parsed)
        #expect(try JSON.parse("\"é😀\"") == .string("é😀"))
    }

    @Test func integersAreExactInt64() throws {
        #expect(try JSON.parse("9223372036854775807") == .integer(Int64.max))
        #expect(try JSON.parse("-9223372036854775808") == .integer(Int64.min))
        #expect(try JSON.parse("1234567890123456789") == .integer(1_234_567_890_123_456_789))
        #expect(JSON.serialize(.integer(Int64.max)) == "9223372036854775807")
        #expect(try JSON.parse("9223372036854775808") == .number(9_223_372_036_854_775_808.0))
        #expect(try JSON.parse("1.5e3") == .number(1500))
        #expect(try JSON.parse("-0") == .integer(0))
    }

    @Test func errorsCarryLineColumnAndExpectation() {
        func failure(_ text: String) -> JSONParseError? {
            do {
                _ = try JSON.parse(text)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure("{\"a\":1,\n \"b\" 2}") == JSONParseError(line: 2, column: 6, message: "expected ':', found '2'"))
        #expect(failure("[1,2") == JSONParseError(line: 1, column: 5, message: "expected ',' or ']', found end of input"))
        #expect(failure("\"é\" x")?.column == 5)
        #expect(failure("01")?.message == "leading zero in a number")
        #expect(failure("\"\\ud83d\"")?.message.contains("surrogate") == true)
        #expect(failure("\"a\nb\"")?.message.contains("control character") == true)
        #expect(failure("{\"a\":1,\"a\":2}")?.message == "duplicate member \"a\"")
        #expect(failure("tru")?.message == "expected 'true'")
        #expect(failure("")?.message == "expected a value, found end of input")
        #expect(failure(String(repeating: "[", count: 1000)) != nil)
    }
}
