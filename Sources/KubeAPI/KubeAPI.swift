//! KubeAPI: the pure core of Faultline's Kubernetes apiserver.
//!
//! Everything here is a function of its inputs: label and field selectors, the four patch kinds
//! kubectl sends (JSON merge, RFC 6902 JSON patch, strategic merge, apply as an upsert), the
//! resource registry behind discovery, defaulting, validation, Status errors and the Table
//! printers of `kubectl get`. Objects are `Wire.JSONValue`s (members keep their order, so the
//! same object always serialises to the same bytes). The shell that serves HTTP and keeps the
//! objects in the store lives in the `APIServer` target; no sockets, clocks or randomness here:
//! "now", uids and revisions come in as parameters.
import Wire

/// Namespace for the apiserver's pure core.
public enum KubeAPI {}
