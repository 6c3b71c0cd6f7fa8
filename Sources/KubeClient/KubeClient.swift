//! KubeClient: how the components (scheduler, controller-manager, kubelets) talk to the
//! apiservers: requests that fail over between a list of apiserver URLs, informers (list, then
//! watch, relisting on 410 Gone) that keep a local cache, and leader election on a Lease.
