//! End-to-end tests: the real `chaos-gate` binary against the simulator (or
//! wiremock) on loopback. One test binary, so the suite links once.

mod as_code;
mod common;
mod failures;
mod fidelity;
mod harness_v2;
mod hostile;
mod hostile_net;
mod hostile_out;
mod hosts;
mod judgement;
mod litmus;
mod matrix;
mod modes;
mod network;
mod phases;
mod reports;
mod requests;
mod settings;
mod xsd;
