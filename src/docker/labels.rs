//! Names and labels of everything the tool creates: the labels that mark a container,
//! network or volume as ours, and the names derived from the environment id.
//! Pure functions; imports only std.

use std::collections::HashMap;

use super::DockerError;

/// The label that marks a container, network or volume as created by this tool.
pub const LABEL_MANAGED_BY: &str = "io.terrafix.managed-by";
/// The value of [`LABEL_MANAGED_BY`] on everything ours.
pub const MANAGED_BY_VALUE: &str = "terrafix-tui";
/// The label holding the environment id a resource belongs to.
pub const LABEL_ENV: &str = "io.terrafix.env";
/// The label holding the Compose service name of a container.
pub const LABEL_SERVICE: &str = "io.terrafix.service";
/// The environment id used by `terrafix-tui env` unless told otherwise.
pub const DEFAULT_ENV_ID: &str = "default";

/// Checks an environment id: 1–32 characters of `a-z`, `0-9` and `-`, starting with a letter
/// or digit (it becomes part of container, network and volume names).
pub fn validate_env_id(id: &str) -> Result<(), DockerError> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(DockerError::InvalidOption(format!(
            "environment id {id:?} must be 1-32 characters of a-z, 0-9 and '-', not starting with '-'"
        )))
    }
}

/// `terrafix-network` for the default environment, `terrafix-<id>-network` otherwise.
pub fn network_name(env_id: &str) -> String {
    prefixed(env_id, "network")
}

/// Container names follow the seed (`terrafix-redis`, `terrafix-api`, `terrafix-localstack`),
/// with the environment id inserted for other environments (`terrafix-<id>-api`).
pub fn container_name(env_id: &str, service: &str) -> String {
    prefixed(env_id, service.strip_prefix("terrafix-").unwrap_or(service))
}

/// The named volume holding a service's data, e.g. `terrafix-redis-data`.
pub fn volume_name(env_id: &str, service: &str) -> String {
    prefixed(env_id, &format!("{service}-data"))
}

fn prefixed(env_id: &str, rest: &str) -> String {
    if env_id == DEFAULT_ENV_ID { format!("terrafix-{rest}") } else { format!("terrafix-{env_id}-{rest}") }
}

/// The labels put on a resource of `service` in environment `env_id`.
pub fn labels_for(env_id: &str, service: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_ENV.to_string(), env_id.to_string()),
        (LABEL_SERVICE.to_string(), service.to_string()),
    ])
}

/// An engine list filter selecting only resources of ours in `env_id`.
pub fn env_filter(env_id: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_MANAGED_BY}={MANAGED_BY_VALUE}"), format!("{LABEL_ENV}={env_id}")],
    )])
}

/// True when `labels` mark a resource as ours in `env_id` (double-checks engine filters).
pub fn is_ours(labels: Option<&HashMap<String, String>>, env_id: &str) -> bool {
    labels.is_some_and(|l| {
        l.get(LABEL_MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && l.get(LABEL_ENV).map(String::as_str) == Some(env_id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_env_uses_the_seed_names() {
        assert_eq!(network_name(DEFAULT_ENV_ID), "terrafix-network");
        assert_eq!(container_name(DEFAULT_ENV_ID, "terrafix-api"), "terrafix-api");
        assert_eq!(container_name(DEFAULT_ENV_ID, "redis"), "terrafix-redis");
        assert_eq!(volume_name(DEFAULT_ENV_ID, "redis"), "terrafix-redis-data");
    }

    #[test]
    fn other_envs_carry_their_id() {
        assert_eq!(network_name("t1"), "terrafix-t1-network");
        assert_eq!(container_name("t1", "terrafix-api"), "terrafix-t1-api");
        assert_eq!(container_name("t1", "localstack"), "terrafix-t1-localstack");
    }

    #[test]
    fn env_ids_are_checked() {
        assert!(validate_env_id("ci-42").is_ok());
        for bad in ["", "-x", "Upper", "a b", "a/b", &"x".repeat(33)] {
            assert!(validate_env_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ownership_needs_both_labels() {
        let ours = labels_for("t1", "redis");
        assert!(is_ours(Some(&ours), "t1"));
        assert!(!is_ours(Some(&ours), "t2"));
        assert!(!is_ours(None, "t1"));
        let mut foreign = ours.clone();
        foreign.remove(LABEL_MANAGED_BY);
        assert!(!is_ours(Some(&foreign), "t1"));
    }
}
