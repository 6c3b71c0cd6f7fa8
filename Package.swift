// swift-tools-version: 6.0
//
// Faultline: a testbed for distributed control planes under faults.
// Targets are layered; dependencies point downward only:
//   Base -> Wire -> Raft, KV, MVCC, EtcdAPI, Linearizability (pure cores)
//        -> Services (shells over an environment) -> Simulator (the virtual world)
//        -> Faults (pure: the fault proxy's rules)
//        -> Net, Storage (the real world: sockets, files) -> EtcdServer, EtcdClient, Proxy -> faultline
// Pure cores import only the standard library and Base/Wire (Scripts/lint-determinism enforces it).
// Topology (topology files: a YAML subset, JSON, the model) is pure too; the CLI reads the files.
// Scenario (chaos scenario files, the nemesis planner, the checks) is pure and sits on Topology.
// KubeAPI is the apiserver's pure core (selectors, patches, registry, defaults, validation, tables)
// and the object model the components share (taints, references, actions).
// KubeScheduling, KubeControllers and KubeNode are the scheduler's, the controllers' and the
// kubelet's pure cores on it;
// KubeClient is the components' shell: apiserver requests with failover, informers, leases.
// Report renders a run's report.json, junit.xml and report.html from a model (pure; one thin writer).
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
        .target(name: "MVCC", dependencies: ["Base"], swiftSettings: strictSettings),
        .target(name: "EtcdAPI", dependencies: ["Base", "Wire", "MVCC"], swiftSettings: strictSettings),
        .target(name: "Linearizability", dependencies: ["Base", "Wire"], swiftSettings: strictSettings),
        .target(name: "Services", dependencies: ["Base", "Raft", "KV"], swiftSettings: strictSettings),
        .target(
            name: "Simulator", dependencies: ["Base", "Wire", "Raft", "KV", "Services", "Linearizability"],
            swiftSettings: strictSettings),
        .target(name: "Faults", dependencies: ["Base", "Wire"], swiftSettings: strictSettings),
        .target(name: "Net", dependencies: ["Base", "Wire"], swiftSettings: strictSettings),
        .target(name: "Proxy", dependencies: ["Base", "Wire", "Net", "Faults"], swiftSettings: strictSettings),
        .target(name: "Storage", dependencies: ["Base", "Raft"], swiftSettings: strictSettings),
        .target(name: "EtcdClient", dependencies: ["Base", "Wire", "Net"], swiftSettings: strictSettings),
        .target(name: "Topology", dependencies: ["Base"], swiftSettings: strictSettings),
        .target(
            name: "EtcdServer",
            dependencies: ["Base", "Wire", "Raft", "MVCC", "EtcdAPI", "Services", "Net", "Storage"],
            swiftSettings: strictSettings),
        // The layout tests reach the page's internals (@testable), and the tests run on the release
        // build, so this one small target is compiled for testing there too.
        // The apiserver's pure core: selectors, patches, registry, defaults, validation, tables.
        .target(name: "KubeAPI", dependencies: ["Base", "Wire"], swiftSettings: strictSettings),
        // The apiserver's shell: HTTP, objects in the store, watches.
        .target(name: "APIServer", dependencies: ["Base", "Wire", "Net", "EtcdClient", "KubeAPI"], swiftSettings: strictSettings),
        .target(name: "KubeScheduling", dependencies: ["Base", "Wire", "KubeAPI"], swiftSettings: strictSettings),
        .target(name: "KubeControllers", dependencies: ["Base", "Wire", "KubeAPI"], swiftSettings: strictSettings),
        .target(name: "KubeClient", dependencies: ["Base", "Wire", "Net", "KubeAPI"], swiftSettings: strictSettings),
        .target(name: "KubeNode", dependencies: ["Base", "Wire", "KubeAPI"], swiftSettings: strictSettings),
        // The daemons: scheduler, controller-manager and kubelets around those cores.
        .target(
            name: "KubeComponents", dependencies: ["Base", "Wire", "Net", "KubeAPI", "KubeClient", "KubeScheduling", "KubeControllers", "KubeNode"],
            swiftSettings: strictSettings),
        .target(name: "Report", dependencies: ["Base"], swiftSettings: strictSettings + [.unsafeFlags(["-enable-testing"])]),
        .target(name: "Scenario", dependencies: ["Base", "Topology", "Linearizability"], swiftSettings: strictSettings),
        .target(name: "Testbed", dependencies: ["Base", "Net", "Wire", "EtcdClient"], swiftSettings: strictSettings),
        .target(
            name: "Runner", dependencies: ["Base", "Net", "Wire", "EtcdClient", "Testbed", "Linearizability", "Scenario", "Report", "KubeAPI", "KubeClient"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "faultline",
            dependencies: ["Base", "Wire", "Raft", "Linearizability", "Simulator", "MVCC", "EtcdAPI", "Net", "EtcdServer", "EtcdClient", "Topology", "Testbed", "Faults", "Proxy", "Runner", "Scenario", "APIServer", "KubeComponents", "KubeScheduling", "KubeControllers", "KubeClient"],
            swiftSettings: strictSettings),
        .testTarget(name: "BaseTests", dependencies: ["Base", "Wire"]),
        .testTarget(name: "RaftTests", dependencies: ["Base", "Raft"]),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Base", "Wire", "Linearizability"], exclude: ["histories"]),
        .testTarget(name: "MVCCTests", dependencies: ["Base", "MVCC"]),
        .testTarget(name: "EtcdAPITests", dependencies: ["Base", "Wire", "MVCC", "EtcdAPI"]),
        .testTarget(name: "NetTests", dependencies: ["Base", "Net"]),
        .testTarget(name: "FaultsTests", dependencies: ["Base", "Wire", "Faults"]),
        .testTarget(name: "ProxyTests", dependencies: ["Base", "Wire", "Net", "Faults", "Proxy"]),
        .testTarget(name: "StorageTests", dependencies: ["Base", "Raft", "Storage"]),
        .testTarget(name: "EtcdServerTests", dependencies: ["Base", "Wire", "Net", "MVCC", "EtcdAPI", "EtcdServer", "EtcdClient", "Raft"]),
        .testTarget(name: "TestbedTests", dependencies: ["Base", "Net", "Testbed", "EtcdClient"]),
        .testTarget(name: "TopologyTests", dependencies: ["Base", "Topology"]),
        .testTarget(name: "RunnerTests", dependencies: ["Base", "Linearizability", "Runner", "Scenario"]),
        .testTarget(name: "ScenarioTests", dependencies: ["Base", "Topology", "Linearizability", "Scenario"]),
        .testTarget(name: "KubeAPITests", dependencies: ["Base", "Wire", "KubeAPI"]),
        .testTarget(name: "APIServerTests", dependencies: ["Base", "Net", "EtcdServer", "KubeAPI", "APIServer"]),
        .testTarget(name: "KubeSchedulingTests", dependencies: ["Base", "Wire", "KubeAPI", "KubeScheduling"]),
        .testTarget(name: "KubeControllersTests", dependencies: ["Base", "Wire", "KubeAPI", "KubeControllers"]),
        .testTarget(name: "KubeNodeTests", dependencies: ["Base", "Wire", "KubeAPI", "KubeNode"]),
        // The components' live tests share KubeClient's in-process cluster.
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["Base", "Wire", "Net", "EtcdServer", "KubeAPI", "APIServer", "KubeClient", "KubeNode", "KubeControllers", "KubeComponents"]),
        .testTarget(name: "ReportTests", dependencies: ["Base", "Report"]),
        .testTarget(name: "SimulationTests", dependencies: ["Base", "Raft", "KV", "Services", "Linearizability", "Simulator"]),
    ]
)
