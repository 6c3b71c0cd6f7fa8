//! Linearizability: checks that a key-value history could have come from one atomic register per key.
//!
//! `parseHistory` reads the JSON-lines format of `specs/history-format.md`; `checkLinearizability`
//! runs the Wing & Gong search (Lowe's memoised variant, as in Porcupine and Knossos) on each key
//! and, when a key fails, shrinks its history to a few operations that cannot be ordered.
//! `generateHealthyHistory` makes linearizable histories for tests and `faultline bench check`.
