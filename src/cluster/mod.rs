//! Distributed runs on Docker Swarm: the coordinator (a Swarm service of workers through
//! `docker`, merging their interval histograms exactly) and the `worker` side. The Redis
//! Streams transport lives in `transport` and nowhere else. Imports engine, metrics,
//! profile and docker; `experiment` drives the coordinator like it drives the engine.

mod coordinator;
pub mod split;
mod transport;
pub mod wire;
pub mod worker;

pub use coordinator::{
    Cluster, ClusterSetup, DistributedPhase, PhaseCall, PhaseGenerators, worker_hlog_path,
};
pub use transport::{Transport, TransportError};
