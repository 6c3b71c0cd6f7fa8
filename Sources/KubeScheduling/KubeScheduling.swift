//! KubeScheduling: the scheduler's pure core. Given the nodes, the pods already placed and one
//! pending pod, it filters the nodes that can take the pod, scores the rest and answers with a
//! binding, or with the FailedScheduling message and its per-reason counts. No I/O and no clock:
//! the `faultline scheduler` shell feeds it from watches and sends what it decides.
