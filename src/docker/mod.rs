//! The Docker environment through the Engine API (bollard): images, network,
//! containers, health, logs and stats. bollard types stay inside this module.
