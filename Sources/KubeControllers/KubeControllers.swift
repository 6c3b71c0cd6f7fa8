//! KubeControllers: the controller-manager's pure cores. Each controller reads cached objects
//! and the time it is given, keeps what it must remember (expectations, eviction timers) as
//! plain state, and answers with `ObjectAction`s for the shell to send. No I/O and no clock.
