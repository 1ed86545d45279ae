//! Distributed runs on Docker Swarm: the coordinator (a Swarm service of workers through
//! `docker`, merging their interval histograms exactly) and the `worker` side. The Redis
//! Streams transport lives in `transport` and nowhere else. Imports engine, metrics,
//! profile and docker; `experiment` drives the coordinator like it drives the engine.

#![deny(missing_docs)]

mod coordinator;
pub mod split;
mod transport;
pub mod wire;
pub mod worker;

pub use coordinator::{
    Cluster, ClusterError, ClusterSetup, DistributedPhase, PhaseCall, PhaseGenerators, worker_hlog_path,
};
pub use transport::{Transport, TransportError};

/// How the generator tasks reach Redis and the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerNetwork {
    /// An attachable overlay network (VXLAN between nodes); Redis and the target by
    /// container name, Redis as private as the environment's.
    #[default]
    Overlay,
    /// Each node's own network stack: Redis and the target by node address, no
    /// encapsulation; the run's Redis is published on the manager's address with a password
    /// the coordinator generates.
    Host,
}

impl WorkerNetwork {
    /// The name on the command line and in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerNetwork::Overlay => "overlay",
            WorkerNetwork::Host => "host",
        }
    }
}
