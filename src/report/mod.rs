//! Results on disk: Locust-compatible CSVs, the JSON summary, HTML reports and PNG
//! charts (plotters). Reads `metrics` types; never imports `tui` or engine internals.

pub mod files;
