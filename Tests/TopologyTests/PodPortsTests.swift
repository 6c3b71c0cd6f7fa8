//! `pod_ports`: the ports on which pods on different hosts reach each other through the fault
//! proxy. Defaults, and every refusal at the line and column of the offending port.

import Testing
import Topology

@Suite struct PodPortsTests {
    @Test func defaultsAreEightyAndEightyEightyLessAnyPortAHostServesOn() throws {
        #expect(try load(etcd3()).podPorts == [80, 8080])
        #expect(Topology.podPortsDefault == [80, 8080])
        // A host serving on 8080 keeps it: the default leaves the port out instead of refusing a
        // file that never asked for pod ports.
        let api = try load(etcd3() + "\n  - {name: api, role: apiserver, ports: {client: 8080}}")
        #expect(api.podPorts == [80])
    }

    @Test func givenPortsAreSortedAndAnEmptyListTurnsPodTrafficOff() throws {
        #expect(try load(etcd3("pod_ports: [9090, 80]")).podPorts == [80, 9090])
        #expect(try load(etcd3("pod_ports:\n  - 8080")).podPorts == [8080])
        #expect(try load(etcd3("pod_ports: []")).podPorts == [])
        let json = #"{"hosts": [{"name": "etcd-1", "role": "etcd"}], "pod_ports": [8081]}"#
        #expect(try load(json, file: "p.json").podPorts == [8081])
    }

    @Test func badPortsAreRefusedWhereTheyAreWritten() {
        expectFailure(loadError(etcd3("pod_ports: [80, 70000]")), at: 8, 17, "pod port 70000 is not between 1 and 65535")
        expectFailure(loadError(etcd3("pod_ports: [0]")), at: 8, 13, "pod port 0 is not between 1 and 65535")
        expectFailure(loadError(etcd3("pod_ports: [80, 80]")), at: 8, 17, "pod port 80 is listed twice (first at 8:13); remove one")
        // Ports a service already listens on in the switch namespace.
        expectFailure(loadError(etcd3("pod_ports: [80, 2379]")), at: 8, 17,
            "pod port 2379 is also the client port of 'etcd-1'; the proxy cannot accept pod traffic on a port a service uses, so pick another")
        expectFailure(loadError(etcd3("pod_ports:\n  - 8080\n  - 2380")), at: 10, 5, "pod port 2380 is also the peer port of 'etcd-1'")
        expectFailure(loadError(etcd3("pod_ports: [7070]")), at: 8, 13, "pod port 7070 is also the fault proxy's control API")
        expectFailure(loadError(etcd3() + "\n  - {name: api, role: apiserver, ports: {client: 8080}}\npod_ports: [8080]"), at: 10, 13,
            "pod port 8080 is also the client port of 'api'")
        // Not a list of integers: the decoder's errors, with positions too.
        #expect(loadError(etcd3("pod_ports: 8080"))?.position == at(8, 12))
        #expect(loadError(etcd3("pod_ports: [http]"))?.position == at(8, 13))
        expectFailure(loadError(etcd3("pod_port: [80]")), at: 8, 1, "did you mean 'pod_ports'?")
    }
}
