//! DocumentDecoderTests: the decoder's typing rules (only plain scalars are numbers or booleans;
//! only true and false are booleans) and its errors: unknown field, missing field, type mismatch,
//! each at file:line:column.

import Testing
import Topology

struct Sample: Decodable, Equatable {
    var text: String
    var count: Int?
    var enabled: Bool?
    var ratio: Double?
    var small: UInt8?
    var tags: [String]?
    var nested: Nested?
    var table: [String: Int]?

    struct Nested: Decodable, Equatable {
        var label: Located<String>
        enum CodingKeys: String, CodingKey, CaseIterable { case label }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case text, count, enabled, ratio, small, tags, nested, table
    }
}

/// Keys that are not CaseIterable: unknown fields are still refused, without the list.
struct Opaque: Decodable {
    var value: Int
}

/// A type whose own init throws a plain DecodingError, as types written for other decoders do.
struct Picky: Decodable {
    var inner: [Inner]
    struct Inner: Decodable {
        init(from decoder: any Decoder) throws {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not like this"))
        }
    }
}

func decodeSample(_ yaml: String) throws(DocumentError) -> Sample {
    try DocumentDecoder.decode(Sample.self, from: try YAMLSubset.parse(yaml, file: "s.yaml"), file: "s.yaml")
}

func sampleError(_ yaml: String) -> DocumentError? { failure { () throws(DocumentError) in try decodeSample(yaml) } }

@Suite struct DocumentDecoderTests {
    @Test func decodesEveryKindOfValue() throws {
        let sample = try decodeSample("""
            text: hello
            count: -42
            enabled: true
            ratio: 0.25
            small: 255
            tags: [a, "b", 3]
            nested:
              label: here
            table: {x: 1, y: 2}
            """)
        #expect(sample == Sample(text: "hello", count: -42, enabled: true, ratio: 0.25, small: 255, tags: ["a", "b", "3"],
            nested: Sample.Nested(label: Located("here")), table: ["x": 1, "y": 2]))
        #expect(sample.nested?.label.position == at(8, 10))
    }

    @Test func quotedNumbersAreStrings() throws {
        #expect(try decodeSample("text: \"1\"").text == "1")
        #expect(try decodeSample("text: 1").text == "1")
        expectFailure(sampleError("text: a\ncount: \"1\""), at: 2, 8, "expected an integer, found the string \"1\"; remove the quotes")
        expectFailure(sampleError("text: a\ncount: 1.5"), at: 2, 8, "expected an integer, found '1.5'")
        expectFailure(sampleError("text: a\nratio: '0.5'"), at: 2, 8, "expected a number, found the string")
        expectFailure(sampleError("text: a\nsmall: 256"), at: 2, 8, "256 is out of range (0...255)")
    }

    @Test func onlyTrueAndFalseAreBooleans() throws {
        #expect(try decodeSample("text: a\nenabled: false").enabled == false)
        expectFailure(sampleError("text: a\nenabled: yes"), at: 2, 10, "yes, no, on and off are not")
        expectFailure(sampleError("text: a\nenabled: no"), at: 2, 10, "expected true or false, found 'no'")
        expectFailure(sampleError("text: a\nenabled: \"true\""), at: 2, 10, "remove the quotes")
        // And yes/no stay strings where strings are expected.
        #expect(try decodeSample("text: no").text == "no")
    }

    @Test func unknownFieldsAreRefusedWithTheKnownOnes() {
        expectFailure(sampleError("text: a\ncuont: 1"), at: 2, 1,
            "unknown field 'cuont' (known fields: text, count, enabled, ratio, small, tags, nested, table); did you mean 'count'?")
        expectFailure(sampleError("text: a\nnested: {label: x, colour: red}"), at: 2, 20, "unknown field 'colour' (known fields: label)")
        let opaque = failure { () throws(DocumentError) in
            try DocumentDecoder.decode(Opaque.self, from: try YAMLSubset.parse("value: 1\nextra: 2", file: "o.yaml"), file: "o.yaml")
        }
        expectFailure(opaque, at: 2, 1, "unknown field 'extra'")
        #expect(opaque?.message == "unknown field 'extra'")
    }

    @Test func missingRequiredFields() {
        expectFailure(sampleError("count: 1"), at: 1, 1, "missing required field 'text'")
        expectFailure(sampleError("text: a\nnested:\n  other: 1"), at: 3, 3, "unknown field 'other'")
        expectFailure(sampleError("text: a\nnested: {}"), at: 2, 9, "missing required field 'label'")
    }

    @Test func typeMismatches() {
        expectFailure(sampleError("text: [a]"), at: 1, 7, "expected a string, found a sequence")
        expectFailure(sampleError("text:"), at: 1, 1, "expected a string, found an empty value (null)")
        expectFailure(sampleError("text: a\nnested: [x]"), at: 2, 9, "expected a mapping, found a sequence")
        expectFailure(sampleError("text: a\ntags: x"), at: 2, 7, "expected a sequence, found 'x'")
        expectFailure(sampleError("- a"), at: 1, 1, "expected a mapping, found a sequence")
    }

    @Test func nullOptionalsAreAbsent() throws {
        let sample = try decodeSample("text: a\ncount: ~\ntags: null\nnested:")
        #expect(sample.count == nil && sample.tags == nil && sample.nested == nil)
    }

    @Test func jsonDecodesThroughTheSameDecoder() throws {
        let json = #"{"text": "hello", "count": 3, "tags": ["a"], "nested": {"label": "x"}}"#
        let fromJSON = try DocumentDecoder.decode(Sample.self, from: try JSONReader.parse(json, file: "s.json"), file: "s.json")
        #expect(fromJSON == (try decodeSample("text: hello\ncount: 3\ntags: [a]\nnested: {label: x}")))
        let error = failure { () throws(DocumentError) in
            try DocumentDecoder.decode(Sample.self, from: try JSONReader.parse("{\n  \"text\": \"a\",\n  \"count\": \"3\"\n}", file: "s.json"), file: "s.json")
        }
        expectFailure(error, at: 3, 12, "remove the quotes")
        #expect(error?.description == "s.json:3:12: expected an integer, found the string \"3\"; remove the quotes")
    }

    @Test func foreignDecodingErrorsArePlacedByTheirCodingPath() {
        let error = failure { () throws(DocumentError) in
            try DocumentDecoder.decode(Picky.self, from: try YAMLSubset.parse("inner:\n  - a: 1", file: "p.yaml"), file: "p.yaml")
        }
        expectFailure(error, at: 2, 5, "not like this")
    }
}
