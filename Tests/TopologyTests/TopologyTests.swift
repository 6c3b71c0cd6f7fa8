//! TopologyTests: loading resolves defaults (names, ports, timing), YAML and JSON of the same
//! topology load equal, and every validation error names the right line and column.

import Testing
import Topology

func load(_ yaml: String, file: String = "test.yaml") throws(DocumentError) -> Topology {
    try Topology.load(yaml, file: file)
}

func loadError(_ yaml: String, file: String = "test.yaml") -> DocumentError? {
    failure { () throws(DocumentError) in try load(yaml, file: file) }
}

/// Three etcd hosts plus whatever `extra` adds at the top level (after a line break).
func etcd3(_ extra: String = "", hostExtra: String = "") -> String {
    """
    hosts:
      - name: etcd-1
        role: etcd\(hostExtra)
      - name: etcd-2
        role: etcd
      - name: etcd-3
        role: etcd
    \(extra)
    """
}

@Suite struct TopologyLoadingTests {
    @Test func defaultsAreResolved() throws {
        let topology = try load(etcd3(), file: "dir/etcd-3.yaml")
        #expect(topology.name == "etcd-3")
        #expect(topology.description == nil)
        #expect(topology.hosts.map(\.name) == ["etcd-1", "etcd-2", "etcd-3"])
        #expect(topology.defaultTimingName == "default")
        for host in topology.hosts {
            #expect(host.role == .etcd && host.plays == .etcd && host.implements == nil && host.program == nil)
            #expect(host.clientPort == 2379 && host.peerPort == 2380)
            #expect(host.timingName == "default" && host.timing == .default)
            #expect(host.flags == [])
        }
        #expect(topology.summary == "etcd-3: 3 hosts (3 etcd), timing default")
    }

    @Test func realDefaultsAndAFastProfileWithLegalRatios() {
        let real = TimingProfile.default
        #expect(real.heartbeat == .milliseconds(100) && real.election == .milliseconds(1000))
        #expect(real.nodeStatusUpdateFrequency == .seconds(10) && real.nodeLeaseDuration == .seconds(40))
        #expect(real.nodeLeaseRenewInterval == .seconds(10))
        #expect(real.nodeMonitorPeriod == .seconds(5) && real.nodeMonitorGracePeriod == .seconds(40))
        #expect(real.podEvictionTimeout == .minutes(5))
        #expect(real.violations() == [])
        let fast = TimingProfile.fast
        #expect(fast.heartbeat == .milliseconds(50) && fast.election == .milliseconds(500))
        #expect(fast.nodeMonitorGracePeriod == .seconds(8))
        #expect(fast.violations() == [])
        for field in TimingField.allCases { #expect(fast[field] < real[field], "fast \(field.rawValue) is faster") }
    }

    @Test func yamlAndJSONOfTheSameTopologyLoadEqual() throws {
        let yaml = """
            name: pair
            description: "two of them"
            timing:
              quick: {extends: fast, election: 600ms}
            defaults: {timing: quick}
            hosts:
              - name: etcd-1
                role: etcd
                flags: [--snapshot-count=5]
                ports: {client: 3379, peer: 3380}
              - name: ext-1
                role: external
                implements: etcd
                timing: default
                program:
                  path: /usr/bin/etcd
                  args: ["--name={{name}}", "--initial-cluster={{initial_cluster}}"]
            """
        let json = """
            {"name": "pair", "description": "two of them",
             "timing": {"quick": {"extends": "fast", "election": "600ms"}},
             "defaults": {"timing": "quick"},
             "hosts": [
               {"name": "etcd-1", "role": "etcd", "flags": ["--snapshot-count=5"], "ports": {"client": 3379, "peer": 3380}},
               {"name": "ext-1", "role": "external", "implements": "etcd", "timing": "default",
                "program": {"path": "/usr/bin/etcd", "args": ["--name={{name}}", "--initial-cluster={{initial_cluster}}"]}}
             ]}
            """
        let specFromYAML = try DocumentDecoder.decode(TopologySpec.self, from: try YAMLSubset.parse(yaml, file: "p.yaml"), file: "p.yaml")
        let specFromJSON = try DocumentDecoder.decode(TopologySpec.self, from: try JSONReader.parse(json, file: "p.json"), file: "p.json")
        #expect(specFromYAML == specFromJSON)
        let fromYAML = try load(yaml, file: "p.yaml")
        let fromJSON = try load(json, file: "p.json")
        #expect(fromYAML == fromJSON)
        #expect(fromYAML.hosts[0].timing.election == .milliseconds(600))
        #expect(fromYAML.hosts[0].timing.heartbeat == .milliseconds(50))
        #expect(fromYAML.hosts[1].timing == .default)
        #expect(fromYAML.hosts[0].clientPort == 3379 && fromYAML.hosts[1].peerPort == 2380)
        #expect(fromYAML.etcdHosts.map(\.name) == ["etcd-1", "ext-1"])
        // And a difference is seen: the comparison is not vacuous.
        #expect(try load(yaml.replacingOccurrences("600ms", "700ms"), file: "p.yaml") != fromJSON)
    }

    @Test func unknownFieldsAreRefusedWithPosition() {
        expectFailure(loadError(etcd3(hostExtra: "\n    rol: etcd")), at: 4, 5,
            "unknown field 'rol' (known fields: name, role, implements, flags, timing, program, ports)")
        expectFailure(loadError(etcd3("timing:\n  t: {heartbeet: 10ms}")), at: 9, 7, "did you mean 'heartbeat'?")
        expectFailure(loadError(etcd3("version: 1")), at: 8, 1, "unknown field 'version' (known fields: name, description, defaults, timing, hosts, pod_ports)")
        expectFailure(loadError("name: x"), at: 1, 1, "missing required field 'hosts'")
    }

    @Test func badDurations() {
        expectFailure(loadError(etcd3("timing:\n  t:\n    heartbeat: 100")), at: 10, 16, "bad duration: '100' has no unit")
        expectFailure(loadError(etcd3("timing:\n  t: {election: 2 seconds}")), at: 9, 17, "unknown unit")
    }

    @Test func hostNames() {
        expectFailure(loadError("hosts:\n  - name: Etcd-1\n    role: etcd"), at: 2, 11, "does not start with a lowercase letter")
        expectFailure(loadError("hosts:\n  - name: etcd_1\n    role: etcd"), at: 2, 11, "contains '_'")
        expectFailure(loadError("hosts:\n  - name: etcd-\n    role: etcd"), at: 2, 11, "ends with '-'")
        expectFailure(loadError("hosts:\n  - name: abcdefghijklmnopqrstu\n    role: etcd"), at: 2, 11, "longer than 20 characters")
        #expect(loadError("hosts:\n  - name: abcdefghijklmnopqrst\n    role: etcd") == nil)
    }

    @Test func duplicateHosts() {
        let yaml = "hosts:\n  - name: etcd-1\n    role: etcd\n  - {name: etcd-1, role: etcd}"
        expectFailure(loadError(yaml), at: 4, 12, "duplicate host name 'etcd-1' (first at line 2); host names must be unique")
    }

    @Test func everyHostCanBeMovedToOneTimingProfile() throws {
        let topology = try load(etcd3())
        let fast = try #require(topology.withTiming("fast"))
        #expect(fast.hosts.allSatisfy { $0.timingName == "fast" && $0.timing == .fast })
        #expect(fast.defaultTimingName == "fast")
        #expect(topology.withTiming("quick") == nil)
    }

    @Test func topologyNames() throws {
        expectFailure(loadError(etcd3(), file: "/a/b/My Cluster.yaml"), at: 1, 1,
            "the topology's name defaults to the file name 'My Cluster', which does not start with a lowercase letter")
        #expect(try load("name: mine\n" + etcd3(), file: "/a/b/My Cluster.yaml").name == "mine")
        expectFailure(loadError("name: Bad\n" + etcd3()), at: 1, 7, "topology name 'Bad'")
        #expect(try Topology.load(etcd3(), file: "x.yaml", defaultName: "given").name == "given")
        #expect(Topology.baseName(of: "Topologies/etcd-3.yaml") == "etcd-3")
        #expect(Topology.baseName(of: "plain") == "plain")
    }

    @Test func rolesAndPrograms() {
        expectFailure(loadError("hosts:\n  - {name: a, role: etc}"), at: 2, 21, "unknown role 'etc' (roles: etcd, apiserver")
        expectFailure(loadError(etcd3(hostExtra: "\n    implements: etcd")), at: 4, 17, "'implements' is only for role external")
        expectFailure(loadError("hosts:\n  - {name: a, role: external, implements: external, program: {path: x}}"), at: 2, 43,
            "'implements' names the role the program plays")
        expectFailure(loadError("hosts:\n  - {name: a, role: external, implements: etcd}"), at: 2, 21, "role external needs a 'program'")
        expectFailure(loadError(etcd3(hostExtra: "\n    program: {path: /bin/true}")), at: 4, 14, "'program' is only for role external")
        expectFailure(loadError("hosts:\n  - {name: a, role: external, implements: etcd, program: {path: ''}}"), at: 2, 65, "'path' is empty")
    }

    @Test func theClusterNeedsEtcdAndKubernetesRolesNeedAnAPIServer() throws {
        expectFailure(loadError("hosts:\n  - {name: a, role: external, program: {path: /bin/x}}"), at: 2, 3, "the topology has no etcd host")
        expectFailure(loadError("hosts: []"), at: 1, 8, "no etcd host")
        expectFailure(loadError(etcd3() + "\n  - {name: s, role: scheduler}"), at: 9, 21, "host 's' (scheduler) talks to the Kubernetes API, but the topology has no apiserver")
        #expect(try load(etcd3() + "\n  - {name: s, role: scheduler}\n  - {name: api, role: apiserver}").hosts.count == 5)
        // Even sizes are legal: HA verification runs them too.
        #expect(try load("hosts:\n  - {name: a, role: etcd}\n  - {name: b, role: etcd}").etcdHosts.count == 2)
    }

    @Test func ports() throws {
        let api = try load(etcd3() + "\n  - {name: api, role: apiserver}\n  - {name: api-2, role: apiserver, ports: {client: 8443}}")
        #expect(api.host(named: "api")?.clientPort == 6443 && api.host(named: "api")?.peerPort == nil)
        #expect(api.host(named: "api-2")?.clientPort == 8443)
        #expect(api.host(named: "etcd-1")?.clientPort == 2379)
        expectFailure(loadError(etcd3() + "\n  - {name: api, role: apiserver, ports: {peer: 1}}"), at: 9, 48, "a 'peer' port is only for hosts that play etcd")
        expectFailure(loadError(etcd3(hostExtra: "\n    ports: {client: 70000}")), at: 4, 21, "port 70000 is not between 1 and 65535")
        expectFailure(loadError(etcd3(hostExtra: "\n    ports: {peer: 2379}")), at: 4, 19, "the client and peer ports are both 2379")
    }

    @Test func flagsTheTestbedSetsAreRefused() throws {
        expectFailure(loadError(etcd3(hostExtra: "\n    flags: [--snapshot-count=10, --heartbeat-interval=5]")), at: 4, 34,
            "--heartbeat-interval is set by the testbed from the timing profile's heartbeat; remove it from 'flags' and set it in a timing profile")
        expectFailure(loadError(etcd3(hostExtra: "\n    flags:\n      - --name\n      - x")), at: 5, 9, "--name is set by the testbed")
        #expect(try load(etcd3(hostExtra: "\n    flags: [--snapshot-count=10]")).hosts[0].flags == ["--snapshot-count=10"])
    }

    @Test func templatesAreCheckedAtLoadTime() {
        func external(_ args: String, implements: String = "etcd") -> String {
            "hosts:\n  - name: x\n    role: external\n    implements: \(implements)\n    program:\n      path: /bin/x\n      args: \(args)"
                + (implements == "etcd" ? "" : "\n  - {name: e, role: etcd}")
        }
        #expect(loadError(external("[\"{{name}}\", \"--u={{ client_url }},{{peer_url}}\"]")) == nil)
        expectFailure(loadError(external("[ok, \"--x={{nmae}}\"]")), at: 7, 18, "unknown template '{{nmae}}' in \"--x={{nmae}}\" (templates: {{name}}, {{ip}}")
        expectFailure(loadError(external("[\"--x={{name\"]")), at: 7, 14, "'{{' in \"--x={{name\" is not closed")
        expectFailure(loadError(external("[\"{{peer_url}}\"]", implements: "apiserver")), at: 7, 14,
            "{{peer_url}} is only defined for hosts that play etcd, and 'x' plays apiserver")
        expectFailure(loadError(external("[\"{{client_url}}\"]", implements: "kubelet") + "\n  - {name: a, role: apiserver}"), at: 7, 14,
            "{{client_url}} needs a client port, and 'x' has none")
        // Flags are templates too.
        expectFailure(loadError(etcd3(hostExtra: "\n    flags: [\"--x={{bogus}}\"]")), at: 4, 13, "unknown template '{{bogus}}'")
    }

    @Test func timingProfilesResolve() throws {
        let topology = try load(etcd3("""
            timing:
              base: {extends: fast, heartbeat: 60ms}
              derived:
                extends: base
                election: 900ms
            defaults:
              timing: derived
            """, hostExtra: "\n    timing: default"))
        #expect(topology.hosts[0].timing == .default)
        let derived = topology.hosts[1].timing
        #expect(topology.hosts[1].timingName == "derived")
        #expect(derived.heartbeat == .milliseconds(60) && derived.election == .milliseconds(900))
        #expect(derived.nodeMonitorGracePeriod == TimingProfile.fast.nodeMonitorGracePeriod)
        #expect(Set(topology.timingProfiles.keys) == ["default", "fast", "base", "derived"])
        #expect(topology.summary == "test: 3 hosts (3 etcd), timing default, derived")
    }

    @Test func timingProfileNames() {
        expectFailure(loadError(etcd3(hostExtra: "\n    timing: quick")), at: 4, 13, "unknown timing profile 'quick' (profiles: default, fast)")
        expectFailure(loadError(etcd3("defaults: {timing: slow}")), at: 8, 20, "unknown timing profile 'slow'")
        expectFailure(loadError(etcd3("timing:\n  fast: {heartbeat: 10ms}")), at: 9, 3, "timing profile 'fast' is built in")
        expectFailure(loadError(etcd3("timing:\n  a: {extends: nope}")), at: 9, 16, "unknown timing profile 'nope'")
        expectFailure(loadError(etcd3("timing:\n  a: {extends: b}\n  b: {extends: a}")), at: 9, 16,
            "timing profiles extend each other in a circle (a -> b -> a)")
    }

    @Test func badTimingRelations() {
        func profileError(_ fields: String) -> DocumentError? { loadError(etcd3("timing:\n  t:\n" + fields)) }
        expectFailure(profileError("    heartbeat: 100ms\n    election: 400ms"), at: 11, 15,
            "timing profile 't': election (400ms) must be at least 5 × heartbeat (100ms) = 500ms, as etcd requires")
        // Only heartbeat is set here, so it is the one to blame; election comes from `default`.
        expectFailure(profileError("    heartbeat: 300ms"), at: 10, 16, "election (1s) must be at least 5 × heartbeat (300ms) = 1.5s")
        expectFailure(profileError("    extends: fast\n    heartbeat: 200ms"), at: 11, 16, "election (500ms) must be at least 5 × heartbeat (200ms)")
        expectFailure(profileError("    election: 1500us"), at: 10, 15, "election (1.5ms) must be a whole number of milliseconds")
        expectFailure(profileError("    election: 60s"), at: 10, 15, "exceeds etcd's limit of 50s")
        expectFailure(profileError("    heartbeat: 0"), at: 10, 16, "heartbeat must be more than 0")
        expectFailure(profileError("    node_lease_renew_interval: 40s"), at: 10, 32,
            "node_lease_renew_interval (40s) must be shorter than node_lease_duration (40s)")
        expectFailure(profileError("    node_lease_duration: 5s"), at: 10, 26, "must be shorter than node_lease_duration (5s)")
        expectFailure(profileError("    node_monitor_grace_period: 5s"), at: 10, 32,
            "node_monitor_grace_period (5s) must be longer than node_monitor_period (5s)")
        expectFailure(profileError("    node_monitor_period: 1m"), at: 10, 26, "must be longer than node_monitor_period (1m)")
        // A profile broken through its parent is blamed where the parent set the field.
        expectFailure(loadError(etcd3("timing:\n  a: {node_monitor_period: 20s}\n  b: {extends: a, node_monitor_grace_period: 10s}")),
            at: 10, 46, "timing profile 'b': node_monitor_grace_period (10s) must be longer than node_monitor_period (20s)")
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
