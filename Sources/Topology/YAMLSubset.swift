//! YAMLSubset: a parser for the small, documented part of YAML that topology and scenario files
//! use (docs/topology.md): block mappings and sequences, one-line flow collections, plain and
//! quoted scalars, comments. Everything else is refused with file:line:column and what to write
//! instead, so a file never means something different here than in another YAML reader.

public enum YAMLSubset {
    /// Flow collections (`[...]`, `{...}`) nest at most this deep, so a hostile file cannot
    /// exhaust the stack. Block nesting is bounded by line length and needs no limit.
    public static let flowDepthMax = 64

    /// Parses `text`; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws(DocumentError) -> DocumentNode {
        var parser = try YAMLParser(text: text, file: file)
        return try parser.parseDocument()
    }
}

/// The parser's state: the lines that have content, and the one being read.
///
/// Block structure is decided by indentation alone. Each block construct (mapping or sequence)
/// owns the lines whose content starts exactly at its indentation; a deeper line belongs to the
/// value of the entry above it, a shallower one ends the block.
struct YAMLParser {
    /// A line with content; blank and comment-only lines are dropped before parsing.
    struct Line {
        let number: Int
        let characters: [Unicode.Scalar]
        /// Where the current block construct starts reading. It begins as the indentation; a
        /// sequence item with inline content (`- name: x`) moves it past the `- `, so the rest of
        /// the line parses as a nested block whose indentation is that column.
        var start: Int
    }

    let file: String
    var lines: [Line] = []
    /// The line being read. Invariant: 0 <= index <= lines.count.
    var index = 0

    init(text: String, file: String) throws(DocumentError) {
        self.file = file
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var sawDocumentStart = false
        for (offset, raw) in scalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var characters = Array(raw)
            if characters.last == "\r" { characters.removeLast() }
            guard let first = characters.firstIndex(where: { !Self.isBlank($0) }) else { continue }
            if characters[first] == "#" { continue }
            if let tab = characters[..<first].firstIndex(of: "\t") {
                throw error(number, tab, "a tab indents this line; YAML indents with spaces only, so replace the tab with spaces")
            }
            let line = Line(number: number, characters: characters, start: first)
            if first == 0, try skipDocumentMarker(line, isFirstContent: lines.isEmpty && !sawDocumentStart) {
                sawDocumentStart = true
                continue
            }
            lines.append(line)
        }
    }

    /// Returns true for the one allowed `---` (before any content); throws for every other marker
    /// and directive at the start of a line.
    func skipDocumentMarker(_ line: Line, isFirstContent: Bool) throws(DocumentError) -> Bool {
        let characters = line.characters
        func isMarker(_ mark: Unicode.Scalar) -> Bool {
            characters.count >= 3 && characters[0] == mark && characters[1] == mark && characters[2] == mark
                && (characters.count == 3 || Self.isBlank(characters[3]))
        }
        if characters[0] == "%" {
            throw error(line.number, 0, "directives (%YAML, %TAG) are not supported; remove the line")
        }
        if isMarker(".") {
            throw error(line.number, 0, "document end markers ('...') are not supported; remove the line (one document per file)")
        }
        guard isMarker("-") else { return false }
        guard isFirstContent else {
            throw error(line.number, 0, "multiple documents are not supported; put each document in its own file")
        }
        let rest = Self.skipBlanks(characters, from: 3)
        guard rest == characters.count || characters[rest] == "#" else {
            throw error(line.number, rest, "put the document's content on the line after '---'")
        }
        return true
    }

    // MARK: - Block structure

    mutating func parseDocument() throws(DocumentError) -> DocumentNode {
        guard let first = lines.first else {
            throw DocumentError(file: file, position: SourcePosition(line: 1, column: 1),
                message: "the document is empty; expected a mapping such as 'hosts:'")
        }
        let (root, endedInline) = try parseBlockNode()
        if index < lines.count {
            let line = lines[index]
            if line.start < first.start {
                throw error(line.number, line.start,
                    "inconsistent indentation: this line starts at column \(line.start + 1), left of the document's first line (column \(first.start + 1)); indent them alike")
            }
            if line.start > first.start {
                throw unexpectedIndentation(line, expected: first.start, afterInlineValue: endedInline)
            }
            if endedInline {
                throw error(line.number, line.start,
                    "unexpected content: the document's single value ended on the line above; a document holds one value, usually a mapping of 'key: value' lines")
            }
            throw error(line.number, line.start,
                "expected another '- ' item like the lines above; a document's top level cannot mix a sequence with anything else")
        }
        return root
    }

    /// Parses the block node that starts at `lines[index]`, at that line's `start`. Also says
    /// whether the node was written inline (a scalar or flow collection on this one line), after
    /// which no deeper line may follow.
    mutating func parseBlockNode() throws(DocumentError) -> (node: DocumentNode, endedInline: Bool) {
        let line = lines[index]
        if try isSequenceEntry(line) { return (try parseBlockSequence(indent: line.start), false) }
        if try scanKey(line) != nil { return (try parseBlockMapping(indent: line.start), false) }
        let value = try parseInlineValue(line, from: line.start)
        index += 1
        return (value, true)
    }

    /// A `- item` line: a dash followed by a space or the end of the line.
    func isSequenceEntry(_ line: Line) throws(DocumentError) -> Bool {
        let characters = line.characters
        guard characters[line.start] == "-" else { return false }
        let next = line.start + 1
        if next == characters.count || characters[next] == " " { return true }
        if characters[next] == "\t" {
            throw error(line.number, next, "a tab follows '-'; use a space, since the item's indentation counts columns")
        }
        return false
    }

    mutating func parseBlockSequence(indent: Int) throws(DocumentError) -> DocumentNode {
        let position = self.position(lines[index], indent)
        var items: [DocumentNode] = []
        var previousEndedInline = false
        while index < lines.count {
            let line = lines[index]
            if line.start < indent { break }
            if line.start > indent { throw unexpectedIndentation(line, expected: indent, afterInlineValue: previousEndedInline) }
            guard try isSequenceEntry(line) else { break }
            let content = Self.skipBlanks(line.characters, from: line.start + 1)
            if content == line.characters.count || Self.isComment(line.characters, at: content) {
                index += 1
                items.append(try parseNestedBlock(parentIndent: indent, sequenceMayShareIndent: false, emptyAt: self.position(line, line.start)))
                previousEndedInline = false
            } else {
                lines[index].start = content
                let (item, endedInline) = try parseBlockNode()
                items.append(item)
                previousEndedInline = endedInline
            }
        }
        precondition(!items.isEmpty, "a block sequence at \(position) was entered without a '- ' line")
        return DocumentNode(.sequence(items), at: position)
    }

    mutating func parseBlockMapping(indent: Int) throws(DocumentError) -> DocumentNode {
        let position = self.position(lines[index], indent)
        var entries: [DocumentNode.Entry] = []
        var firstSeen: [String: SourcePosition] = [:]
        var previousEndedInline = false
        while index < lines.count {
            let line = lines[index]
            if line.start < indent { break }
            if line.start > indent { throw unexpectedIndentation(line, expected: indent, afterInlineValue: previousEndedInline) }
            if try isSequenceEntry(line) {
                throw error(line.number, line.start,
                    "a '- ' item cannot follow mapping entries at the same indentation; put the sequence under a key")
            }
            guard let key = try scanKey(line) else {
                throw error(line.number, line.start, "expected 'key: value' like the entries above")
            }
            let keyPosition = self.position(line, key.column)
            if let first = firstSeen[key.text] {
                throw error(line.number, key.column, "duplicate key '\(key.text)' (first at line \(first.line)); remove one of them")
            }
            firstSeen[key.text] = keyPosition
            let valueStart = Self.skipBlanks(line.characters, from: key.afterColon)
            let value: DocumentNode
            if valueStart == line.characters.count || Self.isComment(line.characters, at: valueStart) {
                index += 1
                value = try parseNestedBlock(parentIndent: indent, sequenceMayShareIndent: true, emptyAt: keyPosition)
                previousEndedInline = false
            } else {
                value = try parseInlineValue(line, from: valueStart)
                index += 1
                previousEndedInline = true
            }
            entries.append(DocumentNode.Entry(key: key.text, keyPosition: keyPosition, value: value))
        }
        precondition(!entries.isEmpty, "a block mapping at \(position) was entered without a key line")
        return DocumentNode(.mapping(entries), at: position)
    }

    /// The value of a `key:` or `-` with nothing after it: the deeper lines that follow, or a
    /// sequence at the key's own indentation (`hosts:` then `- name: a` in the same column, as
    /// kubectl writes it), or else null.
    mutating func parseNestedBlock(parentIndent: Int, sequenceMayShareIndent: Bool, emptyAt: SourcePosition)
        throws(DocumentError) -> DocumentNode
    {
        guard index < lines.count else { return .scalar("", at: emptyAt) }
        let next = lines[index]
        if next.start > parentIndent { return try parseBlockNode().node }
        if sequenceMayShareIndent, next.start == parentIndent, try isSequenceEntry(next) {
            return try parseBlockSequence(indent: parentIndent)
        }
        return .scalar("", at: emptyAt)
    }

    func unexpectedIndentation(_ line: Line, expected: Int, afterInlineValue: Bool) -> DocumentError {
        if afterInlineValue {
            return error(line.number, line.start,
                "unexpected indentation: the line above already has its value, so nothing can be nested under it; values cannot continue on the next line in this YAML subset (keep each value on one line), and siblings start at column \(expected + 1)")
        }
        return error(line.number, line.start,
            "inconsistent indentation: this line starts at column \(line.start + 1), but the block it belongs to starts at column \(expected + 1); indent siblings alike")
    }

    // MARK: - Keys

    /// The key of a `key: value` line, or nil if the line is not a mapping entry.
    func scanKey(_ line: Line) throws(DocumentError) -> (text: String, column: Int, afterColon: Int)? {
        let characters = line.characters
        let start = line.start
        let first = characters[start]
        if let refusal = refusal(for: first, in: line, at: start) { throw refusal }
        if first == "\"" || first == "'" {
            let (text, end) = try parseQuoted(line, from: start)
            let colon = Self.skipBlanks(characters, from: end)
            guard colon < characters.count, characters[colon] == ":", Self.isBlankOrEnd(characters, colon + 1) else { return nil }
            return (text, start, colon + 1)
        }
        if first == "[" || first == "{" || first == "," || first == "]" || first == "}" { return nil }
        var cursor = start
        while cursor < characters.count {
            let character = characters[cursor]
            if Self.isComment(characters, at: cursor) && cursor > start { return nil }
            if character == ":" && Self.isBlankOrEnd(characters, cursor + 1) {
                guard cursor > start else {
                    throw error(line.number, start, "a key is missing before ':'")
                }
                return (Self.trimmedText(characters[start..<cursor]), start, cursor + 1)
            }
            cursor += 1
        }
        return nil
    }

    /// The error for a character that starts a construct outside the subset, or nil.
    func refusal(for character: Unicode.Scalar, in line: Line, at column: Int) -> DocumentError? {
        let followedByBlank = Self.isBlankOrEnd(line.characters, column + 1)
        switch character {
        case "&": return error(line.number, column, "anchors ('&') are not supported; write the value out again instead")
        case "*": return error(line.number, column, "aliases ('*') are not supported; write the value out again instead")
        case "!":
            return error(line.number, column,
                "tags ('!') are not supported; remove the tag (quote a value to make it a string)")
        case "|", ">":
            return error(line.number, column,
                "block scalars ('|' and '>') are not supported; write the value on one line, in double quotes with \\n for line breaks")
        case "?" where followedByBlank:
            return error(line.number, column, "complex keys ('?') are not supported; use a plain or quoted scalar as the key")
        case "%", "@", "`":
            return error(line.number, column, "a plain value cannot start with '\(character)'; quote the value")
        default: return nil
        }
    }

    // MARK: - Inline values

    /// A scalar or flow collection from `start` to the end of the line (a comment may follow).
    func parseInlineValue(_ line: Line, from start: Int) throws(DocumentError) -> DocumentNode {
        let characters = line.characters
        let first = characters[start]
        let position = self.position(line, start)
        if let refusal = refusal(for: first, in: line, at: start) { throw refusal }
        switch first {
        case "-" where Self.isBlankOrEnd(characters, start + 1):
            throw error(line.number, start,
                "a sequence cannot start on the line of its key; put each '- item' on its own line below the key, or write [a, b]")
        case ",", "]", "}":
            throw error(line.number, start, "unexpected '\(first)'; quote the value if it starts with '\(first)'")
        case "\"", "'":
            let (text, end) = try parseQuoted(line, from: start)
            try expectLineEnd(line, from: end, after: "the quoted string")
            return .scalar(text, first == "\"" ? .doubleQuoted : .singleQuoted, at: position)
        case "[", "{":
            var cursor = start
            let node = try parseFlowCollection(line, &cursor, depth: 1)
            try expectLineEnd(line, from: cursor, after: "the flow collection")
            return node
        default:
            var cursor = start
            var end = start
            while cursor < characters.count {
                let character = characters[cursor]
                if Self.isComment(characters, at: cursor) { break }
                if character == ":" && Self.isBlankOrEnd(characters, cursor + 1) {
                    throw error(line.number, cursor,
                        "a plain value cannot contain ': '; quote the value, or put a nested mapping on the next lines, indented")
                }
                if !Self.isBlank(character) { end = cursor + 1 }
                cursor += 1
            }
            return .scalar(Self.trimmedText(characters[start..<end]), at: position)
        }
    }

    func expectLineEnd(_ line: Line, from end: Int, after what: String) throws(DocumentError) {
        let characters = line.characters
        let next = Self.skipBlanks(characters, from: end)
        guard next < characters.count else { return }
        if characters[next] == "#" {
            if next > end { return }
            throw error(line.number, next, "put a space before '#' so that it starts a comment")
        }
        if characters[next] == ":" {
            throw error(line.number, next,
                "unexpected ':' after \(what); only plain or quoted scalars can be keys, and a nested mapping goes on the next lines")
        }
        throw error(line.number, next, "unexpected text after \(what); quote the whole value")
    }

    /// A single- or double-quoted scalar starting at `start`; returns its text and the index after
    /// the closing quote.
    func parseQuoted(_ line: Line, from start: Int) throws(DocumentError) -> (String, Int) {
        let characters = line.characters
        let quote = characters[start]
        var text = String.UnicodeScalarView()
        var cursor = start + 1
        while cursor < characters.count {
            let character = characters[cursor]
            if character == quote {
                // In single quotes, '' is one quote; in double quotes a quote is escaped with \.
                if quote == "'", cursor + 1 < characters.count, characters[cursor + 1] == "'" {
                    text.append("'")
                    cursor += 2
                    continue
                }
                return (String(text), cursor + 1)
            }
            if quote == "\"" && character == "\\" {
                let (scalar, width) = try parseEscape(line, at: cursor)
                text.append(scalar)
                cursor += width
                continue
            }
            text.append(character)
            cursor += 1
        }
        let kind = quote == "'" ? "single" : "double"
        throw error(line.number, start,
            "this \(kind)-quoted string is not closed on its line; close it with \(quote) (strings spanning lines are not supported)")
    }

    /// A YAML double-quote escape at `cursor` (the backslash): the scalar and how many characters
    /// the escape spans.
    func parseEscape(_ line: Line, at cursor: Int) throws(DocumentError) -> (Unicode.Scalar, Int) {
        let characters = line.characters
        guard cursor + 1 < characters.count else {
            throw error(line.number, cursor,
                "a '\\' at the end of a line would continue the string on the next line, which is not supported; write \\\\ for a backslash")
        }
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "0": "\u{0}", "a": "\u{7}", "b": "\u{8}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{B}", "f": "\u{C}",
            "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
            "L": "\u{2028}", "P": "\u{2029}",
        ]
        let letter = characters[cursor + 1]
        if let scalar = simple[letter] { return (scalar, 2) }
        let digitCount: Int
        switch letter {
        case "x": digitCount = 2
        case "u": digitCount = 4
        case "U": digitCount = 8
        default:
            throw error(line.number, cursor,
                "unknown escape '\\\(letter)' in a double-quoted string; write \\\\ for a backslash, or use single quotes, where '\\' is literal")
        }
        let digits = characters.dropFirst(cursor + 2).prefix(digitCount)
        guard digits.count == digitCount, let value = UInt32(String(String.UnicodeScalarView(digits)), radix: 16),
            let scalar = Unicode.Scalar(value)
        else {
            throw error(line.number, cursor,
                "'\\\(letter)' needs \(digitCount) hexadecimal digits naming a Unicode scalar (not a surrogate)")
        }
        return (scalar, 2 + digitCount)
    }

    // MARK: - Flow collections (one line)

    /// A `[...]` or `{...}` at `cursor`, which ends after the closing bracket.
    func parseFlowCollection(_ line: Line, _ cursor: inout Int, depth: Int) throws(DocumentError) -> DocumentNode {
        let characters = line.characters
        let open = cursor
        guard depth <= YAMLSubset.flowDepthMax else {
            throw error(line.number, open, "flow collections nest deeper than \(YAMLSubset.flowDepthMax) levels")
        }
        let isMapping = characters[open] == "{"
        let closing: Unicode.Scalar = isMapping ? "}" : "]"
        var items: [DocumentNode] = []
        var entries: [DocumentNode.Entry] = []
        var firstSeen: [String: SourcePosition] = [:]
        cursor += 1
        while true {
            cursor = Self.skipBlanks(characters, from: cursor)
            guard cursor < characters.count, !Self.isComment(characters, at: cursor) else {
                throw error(line.number, open,
                    "this '\(characters[open])' is not closed on its line; close it with '\(closing)' (flow collections spanning lines are not supported: use block style)")
            }
            if characters[cursor] == closing {
                cursor += 1
                break
            }
            if characters[cursor] == "," { throw error(line.number, cursor, "empty entry in a flow collection; remove the extra ','") }
            if isMapping {
                let entry = try parseFlowEntry(line, &cursor, depth: depth, closing: closing)
                if let first = firstSeen[entry.key] {
                    throw error(line.number, entry.keyPosition.column - 1,
                        "duplicate key '\(entry.key)' (first at line \(first.line), column \(first.column)); remove one of them")
                }
                firstSeen[entry.key] = entry.keyPosition
                entries.append(entry)
            } else {
                items.append(try parseFlowValue(line, &cursor, depth: depth))
            }
            cursor = Self.skipBlanks(characters, from: cursor)
            guard cursor < characters.count, !Self.isComment(characters, at: cursor) else { continue }  // reported above
            if characters[cursor] == "," {
                cursor += 1
            } else if characters[cursor] != closing {
                if !isMapping && characters[cursor] == ":" {
                    throw error(line.number, cursor, "a 'key: value' pair inside [ ] is not supported; write {key: value}")
                }
                throw error(line.number, cursor, "expected ',' or '\(closing)'")
            }
        }
        let position = self.position(line, open)
        return isMapping ? DocumentNode(.mapping(entries), at: position) : DocumentNode(.sequence(items), at: position)
    }

    func parseFlowEntry(_ line: Line, _ cursor: inout Int, depth: Int, closing: Unicode.Scalar) throws(DocumentError)
        -> DocumentNode.Entry
    {
        let characters = line.characters
        let keyPosition = position(line, cursor)
        if characters[cursor] == ":" { throw error(line.number, cursor, "a key is missing before ':'") }
        let keyNode = try parseFlowValue(line, &cursor, depth: depth)
        guard case .scalar(let key) = keyNode.content else {
            throw error(line.number, keyPosition.column - 1,
                "complex keys are not supported; use a plain or quoted scalar as the key")
        }
        cursor = Self.skipBlanks(characters, from: cursor)
        guard cursor < characters.count, characters[cursor] == ":" else {
            throw error(line.number, min(cursor, characters.count - 1) ,
                "expected ':' after the key '\(key.text)'; write {key: value} with a space after ':'")
        }
        cursor = Self.skipBlanks(characters, from: cursor + 1)
        if cursor < characters.count, characters[cursor] == "," || characters[cursor] == closing {
            return DocumentNode.Entry(key: key.text, keyPosition: keyPosition, value: .scalar("", at: keyPosition))
        }
        let value = try parseFlowValue(line, &cursor, depth: depth)
        return DocumentNode.Entry(key: key.text, keyPosition: keyPosition, value: value)
    }

    /// One node inside a flow collection: a nested collection, a quoted scalar, or a plain scalar
    /// that ends at `,`, a bracket, `: ` or a comment.
    func parseFlowValue(_ line: Line, _ cursor: inout Int, depth: Int) throws(DocumentError) -> DocumentNode {
        let characters = line.characters
        let start = cursor
        guard start < characters.count else {
            throw error(line.number, characters.count - 1, "a value is missing at the end of the line")
        }
        let first = characters[start]
        if let refusal = refusal(for: first, in: line, at: start) { throw refusal }
        switch first {
        case "[", "{":
            return try parseFlowCollection(line, &cursor, depth: depth + 1)
        case "\"", "'":
            let (text, end) = try parseQuoted(line, from: start)
            cursor = end
            return .scalar(text, first == "\"" ? .doubleQuoted : .singleQuoted, at: position(line, start))
        case "-" where Self.isBlankOrEnd(characters, start + 1):
            throw error(line.number, start, "'- ' items cannot appear inside a flow collection; separate items with ','")
        default:
            var end = start
            while cursor < characters.count {
                let character = characters[cursor]
                if Self.isFlowIndicator(character) || Self.isComment(characters, at: cursor) { break }
                if character == ":" {
                    let next = cursor + 1
                    if next == characters.count || Self.isBlank(characters[next]) || Self.isFlowIndicator(characters[next]) { break }
                }
                if !Self.isBlank(character) { end = cursor + 1 }
                cursor += 1
            }
            guard end > start else { throw error(line.number, start, "a value is missing here") }
            return .scalar(Self.trimmedText(characters[start..<end]), at: position(line, start))
        }
    }

    // MARK: - Characters and positions

    static func isBlank(_ character: Unicode.Scalar) -> Bool { character == " " || character == "\t" }

    static func isFlowIndicator(_ character: Unicode.Scalar) -> Bool {
        character == "," || character == "[" || character == "]" || character == "{" || character == "}"
    }

    static func isBlankOrEnd(_ characters: [Unicode.Scalar], _ index: Int) -> Bool {
        index >= characters.count || isBlank(characters[index])
    }

    /// A `#` starts a comment at the start of a line or after a space or tab; elsewhere it is
    /// part of a value (`a#b`).
    static func isComment(_ characters: [Unicode.Scalar], at index: Int) -> Bool {
        characters[index] == "#" && (index == 0 || isBlank(characters[index - 1]))
    }

    static func skipBlanks(_ characters: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < characters.count && isBlank(characters[index]) { index += 1 }
        return index
    }

    static func trimmedText(_ characters: ArraySlice<Unicode.Scalar>) -> String {
        var slice = characters
        while let last = slice.last, isBlank(last) { slice.removeLast() }
        return String(String.UnicodeScalarView(slice))
    }

    func position(_ line: Line, _ index: Int) -> SourcePosition { SourcePosition(line: line.number, column: index + 1) }

    func error(_ lineNumber: Int, _ index: Int, _ message: String) -> DocumentError {
        DocumentError(file: file, position: SourcePosition(line: lineNumber, column: index + 1), message: message)
    }
}
