//! faultline: one executable, one subcommand per daemon or testbed verb. This file only
//! dispatches; each command lives in its own file beside the module it drives.
//!
//! Run `faultline help` for the list.

import Foundation

let usage = """
    usage: faultline <command> [options]

    commands:
      sim          run the deterministic simulator (one seed, a sweep, a determinism check)
      check        check a history file for linearizability
      etcd         run an etcd-compatible store member (etcd 3.4's flags)
      apiserver    run a Kubernetes apiserver over any etcd v3 store (kubectl works against it)
      scheduler    run the scheduler (binds pods to nodes; leader election on a Lease)
      controller-manager
                   run node lifecycle, ReplicaSet and Deployment controllers (leader election on a Lease)
      kubelet      run a hollow kubelet, or N of them (--hollow N): nodes, leases, pods reported Running
      kube-proxy   answer Services' ClusterIPs on this node (userspace mode: relays to ready endpoints)
      container    one container of a pod (started by a kubelet with --runtime process)
      etcdctl      talk to any etcd v3 endpoint (put, get, del, watch, lease, member, endpoint)
      crash-test   kill -9 store members under load; check no acknowledged write is lost
      run          run a chaos scenario (Chaos/*.yaml) on a real cluster; check it; write the report
      replay       run a finished run again (same plan, same fault schedule) and say where it diverges
      ha-verify    for 3, 5, 7 members: f failures tolerated (available), f+1 not (nothing acknowledged), no split brain
      up           bring a cluster up from a topology (network namespaces, fault proxy, hosts)
      status       a cluster's hosts, addresses, PIDs and states (-o json for scripts)
      fault        break it: partition, isolate, cut, latency, kill, pause, restart, heal, list
      logs         a host's captured output
      kubeconfig   the path of a cluster's kubeconfig (for topologies with apiservers)
      down         take a cluster down (--all: everything Faultline left behind)
      topology     check topology files ('topology check FILE...') or show one resolved ('topology show FILE')
      proxy        run the fault proxy daemon (routes from a JSON file, rules over its HTTP control API)
      bench        benchmarks: 'bench check' (the checker), 'bench kv' and 'bench failover' (any etcd),
                   'bench proxy' (the fault proxy's latency and throughput against direct and socat),
                   'bench apiserver' (creates, gets, lists, watch fan-out beside the store's raw put rate),
               'bench kube' (hollow nodes registered and pods scheduled per second, the scheduler's p99)
      scenario     check chaos scenario files ('scenario check FILE...') or show one resolved ('scenario show FILE')
      help     this text

    Run 'faultline <command> --help' for a command's options.
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
arguments.removeFirst()
switch command {
case "sim":
    exit(SimCommand.run(arguments))
case "check":
    exit(CheckCommand.run(arguments))
case "etcd":
    exit(EtcdCommand.run(arguments))
case "apiserver":
    exit(APIServerCommand.run(arguments))
case "scheduler":
    exit(ComponentCommands.scheduler(arguments))
case "controller-manager":
    exit(ComponentCommands.controllerManager(arguments))
case "kubelet":
    exit(ComponentCommands.kubelet(arguments))
case "kube-proxy":
    exit(ComponentCommands.kubeProxy(arguments))
case "container":
    exit(ContainerCommand.run(arguments))
case "kubeconfig":
    exit(TestbedCommand.kubeconfig(arguments))
case "etcdctl":
    exit(EtcdctlCommand.run(arguments))
case "crash-test":
    exit(CrashTestCommand.run(arguments))
case "run":
    exit(RunCommand.run(arguments))
case "replay":
    exit(RunCommand.replay(arguments))
case "ha-verify":
    exit(HAVerifyCommand.run(arguments))
case "topology":
    exit(TopologyCommand.run(arguments))
case "proxy":
    exit(ProxyCommand.run(arguments))
case "scenario":
    exit(ScenarioCommand.run(arguments))
case "bench":
    switch arguments.first {
    case "check": exit(BenchCheckCommand.run(Array(arguments.dropFirst())))
    case "kv": exit(BenchKVCommand.run(Array(arguments.dropFirst())))
    case "failover": exit(BenchFailoverCommand.run(Array(arguments.dropFirst())))
    case "proxy": exit(BenchProxyCommand.run(Array(arguments.dropFirst())))
    case "apiserver": exit(BenchAPIServerCommand.run(Array(arguments.dropFirst())))
    case "kube": exit(BenchKubeCommand.run(Array(arguments.dropFirst())))
    default:
        FileHandle.standardError.write(Data("faultline bench: unknown benchmark '\(arguments.first ?? "")' (available: check, kv, failover, proxy, apiserver, kube)\n".utf8))
        exit(2)
    }
case "up":
    exit(TestbedCommand.up(arguments))
case "down":
    exit(TestbedCommand.down(arguments))
case "status":
    exit(TestbedCommand.status(arguments))
case "logs":
    exit(TestbedCommand.logs(arguments))
case "fault":
    exit(TestbedCommand.fault(arguments))
case "supervise":
    exit(TestbedCommand.supervise(arguments))
case "help", "-h", "--help":
    print(usage)
    exit(0)
default:
    FileHandle.standardError.write(Data("faultline: unknown command '\(command)'\n\n\(usage)\n".utf8))
    exit(2)
}
