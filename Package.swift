// swift-tools-version: 6.0
//
// Faultline: a testbed for distributed control planes under faults.
// Targets are layered; dependencies point downward only:
//   Base -> Wire -> Raft, KV, Linearizability (pure cores) -> Services (shells) -> Simulator -> faultline
// Pure cores import only the standard library and Base/Wire (Scripts/lint-determinism enforces it).
import PackageDescription
import class Foundation.ProcessInfo

let warningsAsErrors = ProcessInfo.processInfo.environment["WARNINGS_AS_ERRORS"] != nil
let strictSettings: [SwiftSetting] = warningsAsErrors ? [.unsafeFlags(["-warnings-as-errors"])] : []

let package = Package(
    name: "Faultline",
    products: [
        .executable(name: "faultline", targets: ["faultline"])
    ],
    targets: [
        .target(name: "Base", swiftSettings: strictSettings),
        .target(name: "Wire", dependencies: ["Base"], swiftSettings: strictSettings),
        .target(name: "Raft", dependencies: ["Base"], swiftSettings: strictSettings),
        .target(name: "KV", dependencies: ["Base", "Raft"], swiftSettings: strictSettings),
        .target(name: "Linearizability", dependencies: ["Base", "Wire"], swiftSettings: strictSettings),
        .target(name: "Services", dependencies: ["Base", "Raft", "KV"], swiftSettings: strictSettings),
        .target(
            name: "Simulator", dependencies: ["Base", "Wire", "Raft", "KV", "Services", "Linearizability"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "faultline", dependencies: ["Base", "Wire", "Raft", "Linearizability", "Simulator"],
            swiftSettings: strictSettings),
        .testTarget(name: "BaseTests", dependencies: ["Base", "Wire"]),
        .testTarget(name: "RaftTests", dependencies: ["Base", "Raft"]),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Base", "Wire", "Linearizability"], exclude: ["histories"]),
        .testTarget(name: "SimulationTests", dependencies: ["Base", "Raft", "KV", "Services", "Linearizability", "Simulator"]),
    ]
)
