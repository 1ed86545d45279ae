//! Writers for what a run leaves on disk while it goes: Locust CSVs, the summary JSON,
//! resource samples. Every whole-file write is atomic (temp file + rename).
