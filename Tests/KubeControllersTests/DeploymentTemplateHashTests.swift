import KubeAPI
import KubeControllers
import Testing
import Wire

@Suite struct DeploymentTemplateHashTests {
    private func deployment(template: JSONValue, collisionCount: Int64? = nil) -> JSONValue {
        var object: JSONValue = .object(["spec": .object(["template": template])])
        if let collisionCount { object.set("status.collisionCount", .integer(collisionCount)) }
        return object
    }

    private let template = WorkloadFixtures.podTemplate(image: "nginx:1")

    @Test func sameTemplateSameHashWhateverTheMemberOrder() throws {
        let hash = DeploymentController.podTemplateHash(of: deployment(template: template))
        #expect(hash == DeploymentController.podTemplateHash(of: deployment(template: template)))
        let reordered = try JSON.parse(#"{"spec":{"containers":[{"image":"nginx:1","name":"web"}]},"metadata":{"labels":{"app":"web"}}}"#)
        #expect(DeploymentController.podTemplateHash(of: deployment(template: reordered)) == hash)
        // Spelling "nothing" differently is the same template too.
        let withEmpties = try JSON.parse(
            #"{"metadata":{"labels":{"app":"web"},"annotations":{}},"spec":{"volumes":[],"containers":[{"image":"nginx:1","name":"web","args":null}]}}"#)
        #expect(DeploymentController.podTemplateHash(of: deployment(template: withEmpties)) == hash)
    }

    @Test func changedTemplateOrCollisionCountChangesTheHash() {
        let hash = DeploymentController.podTemplateHash(of: deployment(template: template))
        let changed = DeploymentController.podTemplateHash(of: deployment(template: WorkloadFixtures.podTemplate(image: "nginx:2")))
        #expect(changed != hash)
        let relabelled = DeploymentController.podTemplateHash(of: deployment(template: WorkloadFixtures.podTemplate(image: "nginx:1", app: "api")))
        #expect(relabelled != hash)
        let collided = DeploymentController.podTemplateHash(of: deployment(template: template, collisionCount: 1))
        #expect(collided != hash)
        #expect(DeploymentController.podTemplateHash(of: deployment(template: template, collisionCount: 2)) != collided)
    }

    @Test func hashIsADecimalFNV32aSpelledWithoutVowels() {
        let hash = DeploymentController.podTemplateHash(of: deployment(template: template))
        let alphabet = Set("bcdfghjklmnpqrstvwxz2456789")
        #expect(!hash.isEmpty && hash.count <= 10)
        #expect(hash.allSatisfy { alphabet.contains($0) })
        // The empty template is serialised as "{}"; FNV-32a of those two bytes is 1415952421
        // (computed apart from this code, with an implementation that gives the published 0xe40c292c
        // for "a"), and the digits 0-9 spell 4 5 6 7 8 9 b c d f (byte value modulo 27).
        #expect(DeploymentController.podTemplateHash(of: deployment(template: .object([:]))) == "5859f96865")
    }
}
