//! KubeScheduling: the scheduler's pure core. Given the nodes, the pods already placed and one
//! pending pod, it filters the nodes that can take the pod, scores the rest and answers with a
//! binding, or with the FailedScheduling message and its per-reason counts. No I/O and no clock:
//! the `faultline scheduler` shell feeds it from watches and sends what it decides.
//!
//! Layout, following kube-scheduler v1.32's default profile:
//! - `Model/`: typed views of Nodes and Pods read once from JSON (`SchedulingNode`,
//!   `SchedulingPod`), resource amounts, node selector terms and inter-pod terms.
//! - `Cache/`: `SchedulerCache`, the nodes with per-node sums of what their pods request,
//!   including pods assumed by this scheduler and not yet seen bound.
//! - `Plugins/`: the filters (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
//!   NodeResourcesFit, InterPodAffinity) and scores (NodeResourcesFit with LeastAllocated or
//!   MostAllocated, BalancedAllocation, NodeAffinity, TaintToleration, InterPodAffinity).
//! - `Framework/`: one attempt (`SchedulingAlgorithm`), its decision and failure message.
//! - `Queue/`: `SchedulingQueue`, active, backoff and unschedulable pods.
//! - `Scheduler`: all of the above behind watch events in, `[ObjectAction]` out.
//!
//! Each `scheduleOne` costs O(nodes walked x filters) over cached sums; pods are rescanned only
//! for a pod with required inter-pod terms, as in Kubernetes. The shell can time each call.
