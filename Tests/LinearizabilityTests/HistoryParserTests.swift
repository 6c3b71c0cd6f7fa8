//! HistoryParserTests: well-formed histories round-trip; malformed ones name the right line.

import Linearizability
import Testing

@Suite struct HistoryParserTests {
    let invoke = #"{"process":0,"type":"invoke","f":"write","key":"x","value":"1","time":1000}"#
    let ok = #"{"process":0,"type":"ok","f":"write","key":"x","value":"1","time":2000}"#

    func error(_ lines: [String]) -> HistoryParseError? {
        do {
            _ = try parseHistory(lines.joined(separator: "\n"))
            return nil
        } catch {
            return error
        }
    }

    @Test func exampleParsesAndRoundTrips() throws {
        let text = try historyFile("example.jsonl")
        let events = try parseHistory(text)
        #expect(events.count == 6)
        #expect(events[4].value == .pair("1", "2"))
        #expect(events[5].type == .info)
        #expect(events[5].error == "timeout")
        #expect(events.map { $0.jsonLine() } == text.split(separator: "\n").map(String.init))
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        #expect(try parseHistory("\n" + invoke + "\n\n" + ok + "\n").count == 2)
        let failure = error(["", invoke, "", "{"])
        #expect(failure?.line == 4)
    }

    @Test func badJSONNamesTheLine() {
        let failure = error([invoke, #"{"process":0,"type":"ok""#])
        #expect(failure?.line == 2)
        #expect(failure?.message.contains("invalid JSON") == true)
    }

    @Test func missingFieldNamesTheLineAndField() {
        let failure = error([invoke, #"{"process":0,"type":"ok","f":"write","key":"x","value":"1"}"#])
        #expect(failure?.line == 2)
        #expect(failure?.message == "missing field \"time\"")
    }

    @Test func wrongTypeNamesTheLine() {
        let failure = error([#"{"process":"zero","type":"invoke","f":"write","key":"x","value":"1","time":1}"#])
        #expect(failure?.line == 1)
        #expect(failure?.message.contains("must be an integer, found string") == true)
        let badValue = error([invoke, ok, #"{"process":1,"type":"invoke","f":"cas","key":"x","value":"1","time":3000}"#])
        #expect(badValue?.line == 3)
        #expect(badValue?.message.contains("[expected, new]") == true)
        let badKind = error([#"{"process":0,"type":"invoke","f":"increment","key":"x","value":null,"time":1}"#])
        #expect(badKind?.message.contains("\"f\" must be") == true)
    }

    @Test func completionWithoutInvokeNamesTheLine() {
        let failure = error([invoke, ok, ok.replacingTime("2000", with: "3000")])
        #expect(failure?.line == 3)
        #expect(failure?.message.contains("without an outstanding invoke") == true)
        let mismatched = error([invoke, ok.replacingTime("\"write\"", with: "\"delete\"").replacingTime("\"1\"", with: "null")])
        #expect(mismatched?.line == 2)
    }

    @Test func timeGoingBackwardsNamesTheLine() {
        let failure = error([invoke, ok.replacingTime("2000", with: "999")])
        #expect(failure?.line == 2)
        #expect(failure?.message.contains("backwards") == true)
    }

    @Test func processReusedAfterInfoNamesTheLine() {
        let info = ok.replacingTime("\"ok\"", with: "\"info\"")
        let again = invoke.replacingTime("1000", with: "3000")
        let failure = error([invoke, info, again])
        #expect(failure?.line == 3)
        #expect(failure?.message.contains("after its info completion on line 2") == true)
    }

    @Test func jsonLineHasTheSpecFieldOrderAndEscapes() throws {
        let event = HistoryEvent(
            process: 3, type: .info, f: .cas, key: "a\"b", value: .pair("1", "é\n"), time: 42, node: "n1", error: "timeout")
        #expect(event.jsonLine() == #"{"process":3,"type":"info","f":"cas","key":"a\"b","value":["1","é\n"],"time":42,"node":"n1","error":"timeout"}"#)
        #expect(try parseHistory(#"{"process":3,"type":"invoke","f":"cas","key":"a\"b","value":["1","é\n"],"time":1}"# + "\n" + event.jsonLine()).last == event)
    }
}

extension String {
    /// The first occurrence of `target` replaced (enough for editing one field of a test line).
    func replacingTime(_ target: String, with replacement: String) -> String {
        let characters = Array(self)
        let pattern = Array(target)
        guard pattern.count <= characters.count else { return self }
        for start in 0...(characters.count - pattern.count) where Array(characters[start..<(start + pattern.count)]) == pattern {
            return String(characters[..<start]) + replacement + String(characters[(start + pattern.count)...])
        }
        return self
    }
}
