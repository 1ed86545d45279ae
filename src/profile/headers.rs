//! Extra request headers from `--header 'Name: value'` and `headers:` in profiles, with
//! `${VAR}` taken from the environment. Values can be credentials: whatever shows them
//! uses `shown_value`, never the value itself.

/// Parses `Name: value`, checking the name is an HTTP token and expanding `${VAR}`.
/// Errors name the header, never its value: the value is often a credential.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err("--header: no colon in it (value not shown); write it as 'Name: value'".into());
    };
    let name = name.trim();
    if let Some(bad) = name.chars().find(|c| !is_tchar(*c)) {
        // Not shown: text before the first colon that is no name may be a pasted value.
        return Err(format!(
            "--header: the text before the first colon is not a header name (it holds {bad:?}; \
             name and value not shown); write it as 'Name: value'"
        ));
    }
    check_name(name).map_err(|e| format!("--header: {e}"))?;
    let value = expand_env(value.trim()).map_err(|e| format!("--header {name}: {e}"))?;
    Ok((name.to_string(), value))
}

/// A header name is an RFC 9110 token: letters, digits and ``!#$%&'*+-.^_`|~``.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the header name is empty".into());
    }
    if let Some(bad) = name.chars().find(|c| !is_tchar(*c)) {
        return Err(format!("the header name {name:?} contains {bad:?}, which a header name may not hold"));
    }
    if matches!(
        name.to_ascii_lowercase().as_str(),
        "host" | "content-length" | "transfer-encoding" | "connection"
    ) {
        return Err(format!("the header {name} is set by the tool itself and cannot be overridden"));
    }
    Ok(())
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Replaces each `${VAR}` with the environment variable's value; an unset variable is an
/// error naming it. `$$` stays a plain `$`.
pub fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("`${` without a closing `}` in the value (value not shown)".into());
            };
            let var = &inner[..end];
            let found = std::env::var(var)
                .map_err(|_| format!("the environment variable {var} is not set (export {var}=…)"))?;
            out.push_str(&found);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    if out.chars().any(|c| c.is_control() && c != '\t') {
        return Err("the value contains a control character (a line break?)".into());
    }
    Ok(out)
}

/// A credential (a header value, a URL's password): shown as `***` by `Display` and
/// `Debug`, so neither a log line nor an error can print it by accident; `expose` is for
/// the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential so it is never printed.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The real value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Headers as `Debug` shows them: `Name: ***` each, for the `Debug` of everything that
/// holds header values (they may be secrets, and `{:?}` ends up in logs and errors).
pub fn debug_names<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    names.into_iter().map(|name| shown_value(name)).collect()
}

/// How a header appears anywhere it is shown: the name and `***`.
pub fn shown_value(name: &str) -> String {
    format!("{name}: ***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_anything_holding_headers_prints_names_only() {
        let headers = vec![("Authorization".to_string(), "Bearer SECRETdbg".to_string())];
        let settings = crate::profile::TargetSettings { headers: headers.clone(), ..Default::default() };
        let task = crate::profile::Task {
            weight: std::num::NonZeroU32::MIN,
            kind: crate::profile::RequestKind::Webhook,
            name: "w".into(),
            headers: headers.clone(),
        };
        let raw = crate::profile::raw::RawHeaders(headers.iter().cloned().collect());
        for shown in
            [format!("{settings:?}"), format!("{task:?}"), format!("{raw:?}"), format!("{settings:#?}")]
        {
            assert!(shown.contains("Authorization"), "{shown}");
            assert!(!shown.contains("SECRETdbg"), "{shown}");
        }
    }

    #[test]
    fn headers_parse_expand_and_refuse() {
        assert_eq!(parse_header("X-Test:  a b ").unwrap(), ("X-Test".into(), "a b".into()));
        // SAFETY-free: a variable name no other test uses.
        unsafe { std::env::set_var("TERRAFIX_HEADER_TEST_TOKEN", "s3cret") };
        assert_eq!(
            parse_header("Authorization: Bearer ${TERRAFIX_HEADER_TEST_TOKEN}").unwrap().1,
            "Bearer s3cret"
        );
        assert_eq!(expand_env("a$$b$c").unwrap(), "a$b$c");
        assert!(parse_header("no colon").unwrap_err().contains("'Name: value'"));
        assert!(parse_header("Bad Name: x").unwrap_err().contains("' '"));
        for (text, value) in [("X-Key s3cretval", "s3cretval"), ("X s3cretval: v", "s3cretval")] {
            let err = parse_header(text).unwrap_err();
            assert!(!err.contains(value), "{err}");
        }
        assert!(!parse_header("X: ${s3cretval").unwrap_err().contains("s3cretval"));
        let secret = Secret::new("s3cretval");
        assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
        assert_eq!(secret.expose(), "s3cretval");
        assert!(parse_header(": x").unwrap_err().contains("empty"));
        assert!(parse_header("Host: x").unwrap_err().contains("set by the tool"));
        let err = parse_header("X: ${TERRAFIX_SURELY_UNSET_VAR}").unwrap_err();
        assert!(err.contains("TERRAFIX_SURELY_UNSET_VAR is not set"), "{err}");
        assert!(expand_env("${OPEN").unwrap_err().contains("closing"));
        assert_eq!(shown_value("Authorization"), "Authorization: ***");
    }
}
