//! The documents link to each other by relative paths and `#anchors`; a renamed file or
//! heading must not leave a link pointing nowhere. Reads README.md, ARCHITECTURE.md,
//! BENCHMARKS.md, CHANGELOG.md and docs/*.md with pulldown-cmark, as a Markdown viewer
//! would, and checks every relative link and image: the file exists, and an anchor into a
//! Markdown file names one of its headings (GitHub's slugs). Also keeps history words
//! ("this round", …) out of the topic documents: those belong in CHANGELOG.md.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The documents checked: the four at the top and every `docs/*.md`.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "CHANGELOG.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ is readable");
    let mut topic: Vec<PathBuf> = docs
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    topic.sort();
    files.extend(topic);
    files
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, `-`,
/// `_` and spaces kept), spaces turned into `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// What one document holds: its links and images (destination, in order) and its anchors.
struct Parsed {
    links: Vec<String>,
    anchors: BTreeSet<String>,
}

fn parse(text: &str) -> Parsed {
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string());
            }
            Event::Start(Tag::Heading { id, .. }) => {
                if let Some(id) = id {
                    anchors.insert(id.to_string());
                }
                heading = Some(String::new());
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap_or_default());
                // A repeated heading gets `-1`, `-2`, … as on GitHub.
                let n = seen.entry(base.clone()).or_insert(0);
                anchors.insert(if *n == 0 { base.clone() } else { format!("{base}-{n}") });
                *n += 1;
            }
            _ => {}
        }
    }
    Parsed { links, anchors }
}

/// A link this test can check: no scheme (`https:`, `mailto:`), not site-absolute.
fn is_relative(dest: &str) -> bool {
    let scheme = dest.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    !dest.is_empty() && !scheme && !dest.starts_with('/')
}

/// Every broken link of `file`, as `file: link (why)`.
fn broken_links(
    file: &Path,
    parsed: &Parsed,
    cache: &mut BTreeMap<PathBuf, BTreeSet<String>>,
) -> Vec<String> {
    let shown = file.strip_prefix(root()).unwrap_or(file).display().to_string();
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut broken = Vec::new();
    for dest in parsed.links.iter().filter(|d| is_relative(d)) {
        let (path, anchor) = match dest.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (dest.as_str(), None),
        };
        let target = if path.is_empty() { file.to_path_buf() } else { dir.join(path) };
        if !target.exists() {
            broken.push(format!("{shown}: {dest} (no file {})", target.display()));
            continue;
        }
        let Some(anchor) = anchor.filter(|a| !a.is_empty()) else { continue };
        if target.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let anchors = cache.entry(target.clone()).or_insert_with(|| {
            let text = std::fs::read_to_string(&target).unwrap_or_default();
            parse(&text).anchors
        });
        if !anchors.contains(anchor) {
            broken.push(format!("{shown}: {dest} (no heading with the anchor #{anchor})"));
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_in_the_documents_resolves() {
    let mut cache = BTreeMap::new();
    let mut broken = Vec::new();
    let files = documents();
    assert!(files.len() > 10, "expected the documents under docs/, found {files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        broken.extend(broken_links(file, &parse(&text), &mut cache));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_topic_documents_hold_no_history_words() {
    // CHANGELOG.md is where history lives; the rest describes the tool as it is.
    const WORDS: [&[&str]; 4] =
        [&["this", "round"], &["previous", "stop"], &["new", "in"], &["earlier", "stop"]];
    let mut found = Vec::new();
    for file in documents().iter().filter(|f| !f.ends_with("CHANGELOG.md")) {
        let text = std::fs::read_to_string(file).unwrap_or_default().to_lowercase();
        let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        for phrase in WORDS {
            if words.windows(phrase.len()).any(|w| w == phrase) {
                found.push(format!("{}: \"{}\"", file.display(), phrase.join(" ")));
            }
        }
    }
    assert!(found.is_empty(), "history words outside CHANGELOG.md:\n{}", found.join("\n"));
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("The load client's HTTP/1.1"), "the-load-clients-http11");
    assert_eq!(slug("Overrides: `--users` and `--spawn-rate`"), "overrides---users-and---spawn-rate");
    assert_eq!(slug("`experiment_summary.json`"), "experiment_summaryjson");
    let parsed = parse("# A\n\n## A\n\n[x](#a-1)\n");
    assert!(parsed.anchors.contains("a") && parsed.anchors.contains("a-1"), "{:?}", parsed.anchors);
    assert!(!is_relative("https://example.com/x.md") && !is_relative("mailto:a@b") && is_relative("x.md#y"));
}
