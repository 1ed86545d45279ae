//! The seed's synthetic Vanta failures: nine templates (S3, IAM, EC2 security groups,
//! RDS), realistic ARNs, severities and `resource_details.repo_size`, serialized with
//! serde_json. Randomness comes from the caller's RNG, so a seed fixes every byte.

use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::profile::RepoSize;

/// The severities a failure is given, drawn uniformly.
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
/// The AWS regions a failure's ARN is placed in, drawn uniformly.
pub const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];

/// The AWS resource a template's failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceType {
    /// `AWS::S3::Bucket`.
    S3Bucket,
    /// `AWS::IAM::Role`.
    IamRole,
    /// `AWS::EC2::SecurityGroup`.
    SecurityGroup,
    /// `AWS::RDS::DBInstance`.
    RdsInstance,
}

impl ResourceType {
    /// The CloudFormation type name, as the payload's `resource_type` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::S3Bucket => "AWS::S3::Bucket",
            ResourceType::IamRole => "AWS::IAM::Role",
            ResourceType::SecurityGroup => "AWS::EC2::SecurityGroup",
            ResourceType::RdsInstance => "AWS::RDS::DBInstance",
        }
    }
}

/// One kind of compliance failure; `test_id` gets a random suffix per failure.
#[derive(Debug)]
pub struct Template {
    /// Vanta's test id; a random suffix is added per failure.
    pub test_id: &'static str,
    /// The test's human name.
    pub test_name: &'static str,
    /// The resource it checks.
    pub resource_type: ResourceType,
    /// Why the resource fails the test, in words.
    pub failure_reason: &'static str,
    /// The compliance framework (`SOC2`, …).
    pub framework: &'static str,
    /// The resource's current (failing) configuration, as JSON.
    pub current_state: Value,
    /// The configuration the test requires, as JSON.
    pub required_state: Value,
}

/// The seed's nine templates, built once.
pub static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    use ResourceType::*;
    let t = |test_id, test_name, resource_type, failure_reason, framework, current_state, required_state| {
        Template {
            test_id,
            test_name,
            resource_type,
            failure_reason,
            framework,
            current_state,
            required_state,
        }
    };
    let flags = |on: bool| {
        json!({"block_public_acls": on, "block_public_policy": on,
               "ignore_public_acls": on, "restrict_public_buckets": on})
    };
    vec![
        t(
            "s3-public-access-block",
            "S3 Bucket Block Public Access",
            S3Bucket,
            "S3 bucket does not have public access blocked",
            "SOC2",
            flags(false),
            flags(true),
        ),
        t(
            "s3-versioning-enabled",
            "S3 Bucket Versioning",
            S3Bucket,
            "S3 bucket does not have versioning enabled",
            "SOC2",
            json!({"versioning": "Disabled"}),
            json!({"versioning": "Enabled"}),
        ),
        t(
            "s3-encryption-at-rest",
            "S3 Bucket Encryption",
            S3Bucket,
            "S3 bucket does not have server-side encryption",
            "ISO27001",
            json!({"encryption": null}),
            json!({"encryption": "AES256"}),
        ),
        t(
            "iam-session-duration",
            "IAM Role Maximum Session Duration",
            IamRole,
            "IAM role session duration exceeds policy limit",
            "SOC2",
            json!({"max_session_duration": 43200}),
            json!({"max_session_duration": 3600}),
        ),
        t(
            "iam-trust-policy",
            "IAM Role Trust Policy Review",
            IamRole,
            "IAM role trust policy allows overly broad access",
            "SOC2",
            json!({"trust_policy_principals": ["*"]}),
            json!({"trust_policy_principals": ["specific-service.amazonaws.com"]}),
        ),
        t(
            "sg-open-ssh",
            "Security Group SSH Access",
            SecurityGroup,
            "Security group allows SSH from 0.0.0.0/0",
            "SOC2",
            json!({"ssh_cidr": "0.0.0.0/0"}),
            json!({"ssh_cidr": "10.0.0.0/8"}),
        ),
        t(
            "sg-open-rdp",
            "Security Group RDP Access",
            SecurityGroup,
            "Security group allows RDP from 0.0.0.0/0",
            "ISO27001",
            json!({"rdp_cidr": "0.0.0.0/0"}),
            json!({"rdp_cidr": "10.0.0.0/8"}),
        ),
        t(
            "rds-encryption",
            "RDS Encryption at Rest",
            RdsInstance,
            "RDS instance does not have encryption enabled",
            "SOC2",
            json!({"storage_encrypted": false}),
            json!({"storage_encrypted": true}),
        ),
        t(
            "rds-public-access",
            "RDS Public Accessibility",
            RdsInstance,
            "RDS instance is publicly accessible",
            "SOC2",
            json!({"publicly_accessible": true}),
            json!({"publicly_accessible": false}),
        ),
    ]
});

#[derive(Serialize)]
struct FailureBody<'a> {
    test_id: &'a str,
    test_name: &'a str,
    resource_arn: &'a str,
    resource_type: &'a str,
    failure_reason: &'a str,
    severity: &'a str,
    framework: &'a str,
    failed_at: &'a str,
    current_state: &'a Value,
    required_state: &'a Value,
    resource_id: &'a str,
    resource_details: Details<'a>,
}

#[derive(Serialize)]
struct Details<'a> {
    name: &'a str,
    repo_size: &'a str,
}

/// Appends 8 random characters from `[a-z0-9]` (the seed's unique-id alphabet).
fn push_id8(rng: &mut impl Rng, out: &mut String) {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    // 36^8 < 2^64, so one draw yields all eight digits (bias below 1e-7).
    let mut v: u64 = rng.random();
    for _ in 0..8 {
        out.push(ALPHABET[(v % 36) as usize] as char);
        v /= 36;
    }
}

/// An ARN of the template's resource type, and where its resource name starts.
fn make_arn(rng: &mut impl Rng, resource_type: ResourceType, arn: &mut String) -> usize {
    let account: u64 = rng.random_range(100_000_000_000..=999_999_999_999);
    let region = REGIONS[rng.random_range(0..REGIONS.len())];
    // Writing into a String cannot fail; the results are ignored for that reason.
    let name_start;
    match resource_type {
        ResourceType::S3Bucket => {
            arn.push_str("arn:aws:s3:::");
            name_start = arn.len();
            arn.push_str("test-bucket-");
            push_id8(rng, arn);
        }
        ResourceType::IamRole => {
            // Writing into a String cannot fail.
            let _ = write!(arn, "arn:aws:iam::{account}:role/");
            name_start = arn.len();
            arn.push_str("test-role-");
            push_id8(rng, arn);
        }
        ResourceType::SecurityGroup => {
            // Writing into a String cannot fail.
            let _ = write!(arn, "arn:aws:ec2:{region}:{account}:security-group/");
            name_start = arn.len();
            // As above: into a String.
            let _ = write!(arn, "sg-{:08x}", rng.random_range(10_000_000u32..=99_999_999));
        }
        ResourceType::RdsInstance => {
            // Writing into a String cannot fail.
            let _ = write!(arn, "arn:aws:rds:{region}:{account}:db:");
            name_start = arn.len();
            arn.push_str("db-");
            push_id8(rng, arn);
        }
    }
    name_start
}

/// RFC 3339 in UTC with microseconds and `+00:00`, as Python's `isoformat()` writes it.
pub fn format_failed_at(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Appends one new failure as a JSON object to `out`.
pub fn write_failure(rng: &mut impl Rng, repo_size: RepoSize, failed_at: &str, out: &mut Vec<u8>) {
    let template = &TEMPLATES[rng.random_range(0..TEMPLATES.len())];
    let severity = SEVERITIES[rng.random_range(0..SEVERITIES.len())];
    let mut arn = String::with_capacity(96);
    let name_start = make_arn(rng, template.resource_type, &mut arn);
    let mut test_id = String::with_capacity(template.test_id.len() + 9);
    test_id.push_str(template.test_id);
    test_id.push('-');
    push_id8(rng, &mut test_id);
    let mut resource_id = String::with_capacity(12);
    resource_id.push_str("res-");
    push_id8(rng, &mut resource_id);
    let body = FailureBody {
        test_id: &test_id,
        test_name: template.test_name,
        resource_arn: &arn,
        resource_type: template.resource_type.as_str(),
        failure_reason: template.failure_reason,
        severity,
        framework: template.framework,
        failed_at,
        current_state: &template.current_state,
        required_state: &template.required_state,
        resource_id: &resource_id,
        resource_details: Details { name: &arn[name_start..], repo_size: repo_size.as_str() },
    };
    // Serializing plain strings and JSON values into a Vec cannot fail.
    let _ = serde_json::to_writer(out, &body);
}
