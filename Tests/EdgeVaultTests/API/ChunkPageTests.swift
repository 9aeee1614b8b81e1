import Foundation
import Testing
@testable import EdgeVaultCore

@Suite("Chunk pages: the wire form openapi.yaml documents")
struct ChunkPageTests {
    @Test("The last page says \"next\":null (a required member), an earlier one the seq to continue after")
    func nextIsNullAtTheEnd() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let chunk = AdminAPI.Chunk(seq: 0, ciphertext: "AA==")
        #expect(String(decoding: try encoder.encode(AdminAPI.Chunks(chunks: [chunk], next: nil)), as: UTF8.self)
            == #"{"chunks":[{"ciphertext":"AA==","seq":0}],"next":null}"#)
        #expect(String(decoding: try encoder.encode(AdminAPI.Chunks(chunks: [chunk], next: 0)), as: UTF8.self)
            == #"{"chunks":[{"ciphertext":"AA==","seq":0}],"next":0}"#)
        let decoded = try JSONDecoder().decode(AdminAPI.Chunks.self, from: Data(#"{"chunks":[],"next":null}"#.utf8))
        #expect(decoded.next == nil)
    }
}
