//! Load generation: virtual users (closed model) and arrival schedules (open model),
//! the HTTP client, and recording into per-worker histograms merged once per tick.
